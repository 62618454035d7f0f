"""The demo data of the admission block: structures with their offer, two requests."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from admission.models import AdmissionCopy, AdmissionStatus, Offer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": None},
        },
    }


def test_it_seeds_offers_and_two_requests_at_different_stages_once():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert Offer.objects.filter(is_published=True).count() == 5
    assert Offer.objects.filter(places_available__gt=0).count() == 4
    statuses = sorted(AdmissionCopy.objects.values_list("structure__name", "status"))
    assert statuses == [
        ("MAS Les Glycines", AdmissionStatus.WAITING_LIST),
        ("SSIAD du Canal", AdmissionStatus.INFO_REQUESTED),
    ]
