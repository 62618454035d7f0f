from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from exchanges import services
from exchanges.models import ConversationKind
from tests.uploads_corpus import CLEAN_PDF


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _deliveries_inline(monkeypatch):
    monkeypatch.setattr("notifications.services.transaction.on_commit", lambda func, **kw: func())


def photo(name: str = "plaie.jpg") -> SimpleUploadedFile:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def pdf_file(name: str = "compte-rendu.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, CLEAN_PDF, content_type="application/pdf")


@pytest.fixture
def conversation(person, referent, nurse):
    """The referent and the nurse talk about Jeanne."""
    return services.conversation_start(
        actor=referent,
        kind=ConversationKind.PERSON,
        person=person,
        subject="Retour d'hospitalisation",
        participants=[nurse],
        body="Jeanne rentre jeudi, qui passe le soir ?",
    )
