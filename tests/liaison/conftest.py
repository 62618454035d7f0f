from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

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


def jpeg_with_gps(name: str = "photo.jpg") -> SimpleUploadedFile:
    """A real JPEG carrying EXIF with a GPS position and a camera model."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "Telephone Modele X"  # Model
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 7.0)}  # GPSInfo
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def pdf_file(name: str = "compte-rendu.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, CLEAN_PDF, content_type="application/pdf")
