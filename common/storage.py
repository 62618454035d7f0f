"""Private file storage in an S3-compatible bucket (django-storages, boto3).

Uploaded files are private: objects are written with the `private` ACL and the storage
never hands out a URL that would reach the bucket (no signed or public URL). Files are
read by the portal and streamed by views that went through the access gate, exactly as
with the local disk. Configured in `portal/settings.py` from STORAGE_URL or AWS_*.
"""

from __future__ import annotations

import hashlib

from botocore.config import Config
from django.core.files.storage import Storage
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage

CHUNK = 1024 * 1024


class PrivateS3Storage(S3Storage):
    default_acl = "private"
    file_overwrite = False
    querystring_auth = False

    def __init__(self, **settings):
        super().__init__(**settings)
        # Fail in seconds rather than hang a request or /readyz when the bucket is away.
        base: Config = self.client_config  # type: ignore[has-type]
        self.client_config = base.merge(
            Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"})
        )

    def get_default_settings(self):
        defaults = super().get_default_settings()
        # Whatever AWS_* says, objects stay private and names are never reused.
        defaults.update({"default_acl": "private", "file_overwrite": False, "querystring_auth": False})
        return defaults

    def url(self, name, parameters=None, expire=None, http_method=None):
        """A relative name that no URL of the portal serves, like the local disk's: a
        browser never gets a link to the bucket (signed or not)."""
        return filepath_to_uri(name)


def sha256_of(storage: Storage, name: str) -> str:
    """SHA-256 of a stored file, read in chunks."""
    digest = hashlib.sha256()
    with storage.open(name, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def referenced_names() -> list[str]:
    """The names stored in every FileField of every model, sorted, without duplicates."""
    from django.apps import apps
    from django.db import models

    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                rows = model._default_manager.exclude(**{field.attname: ""})
                rows = rows.exclude(**{f"{field.attname}__isnull": True})
                names.update(rows.values_list(field.attname, flat=True).distinct())
    return sorted(names)
