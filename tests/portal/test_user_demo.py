"""The demo accounts see meaningful portal pages (seed_demo)."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.urls import reverse

from portal.models import PortalInvitation, User
from tests.conftest import login


def test_it_gives_the_demo_person_carer_and_guardian_meaningful_portal_pages(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    jeanne = login(User.objects.get(email__startswith="jeanne.martin@"))
    home = jeanne.get(reverse("portal_home")).content.decode()
    assert "demande à entrer" in home  # the physiotherapist's pending join request
    assert "Derniers messages du cahier de liaison" in home
    assert "Karim" in jeanne.get(reverse("portal_circle")).content.decode()
    assert "Consultation du DMP" in jeanne.get(reverse("portal_consents")).content.decode()

    claire = login(User.objects.get(email__startswith="claire.martin@"))
    assert "Espace de Jeanne" in claire.get(reverse("portal_home")).content.decode()
    assert claire.get(reverse("portal_record")).status_code == 200
    assert claire.get(reverse("portal_notebook")).status_code == 200
    assert claire.get(reverse("portal_circle")).status_code == 403

    guardian = login(User.objects.get(email__startswith="tuteur@"))
    assert "Enregistrer les droits" in guardian.get(reverse("portal_circle")).content.decode()
    assert "a consulté" in guardian.get(reverse("portal_access_log")).content.decode()

    assert PortalInvitation.objects.filter(used_at__isnull=True).count() == 1
