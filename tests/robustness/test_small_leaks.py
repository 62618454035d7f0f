"""The last small leaks: an ended membership's feed names, the circle on the record page,
phone numbers for SMS."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agenda import services as agenda_services
from agenda.models import FeedOwnerKind
from coordination import services
from coordination.models import CircleMember, EndReason, Level
from notifications.models import Delivery
from tests.conftest import login


def test_an_ended_membership_takes_the_feeds_name_away(person, nurse, referent):
    agenda_services.agenda_feed_create(actor=nurse, kind=FeedOwnerKind.PERSON, person=person)
    page = login(nurse).get(reverse("agenda:feeds")).content.decode()
    assert "Jeanne" in page
    member = CircleMember.objects.active().get(person=person, user=nurse)
    services.circle_member_end(actor=referent, member=member, reason=EndReason.END_OF_CARE)
    page = login(nurse).get(reverse("agenda:feeds")).content.decode()
    assert "Jeanne" not in page and "MARTIN" not in page
    assert "ne voyez plus l'agenda" in page
    # The feed can still be revoked by its owner.
    assert 'action="/agenda/abonnements/' in page


def test_a_carer_without_circle_read_sees_no_member_on_the_record_page(person, person_user, carer, nurse):
    member = CircleMember.objects.active().get(person=person, user=carer)
    services.grants_set(actor=person_user, member=member, levels={"record": Level.READ})
    page = login(carer).get(reverse("portal_record")).content.decode()
    assert "Jeanne" in page  # the record itself
    assert "Infirmière" not in page and "Référent" not in page.replace("Référent·e", "")
    assert "pas le droit de voir qui fait partie du cercle" in page
    services.grants_set(actor=person_user, member=member, levels={"record": Level.READ, "circle": Level.READ})
    page = login(carer).get(reverse("portal_record")).content.decode()
    assert "Inès Infirmière" in page


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("06 12 34 56 78", "+33612345678"), ("+33 6 12 34 56 78", "+33612345678"), ("+262 692 12 34 56", "+262692123456")],
)
def test_a_mobile_number_is_stored_in_e164(admin_user, nurse, typed, stored):
    response = login(admin_user).post(reverse("admin:portal_user_change", args=[nurse.pk]), _user_form(nurse, typed))
    assert response.status_code == 302, response.content.decode()[:2000]
    nurse.refresh_from_db()
    assert nurse.phone == stored


@pytest.mark.parametrize("typed", ["01 40 00 00 01", "06 12", "+44 7911 123456", "appelez-moi"])
def test_a_number_that_is_not_a_french_mobile_is_refused_in_french(admin_user, nurse, typed):
    response = login(admin_user).post(reverse("admin:portal_user_change", args=[nurse.pk]), _user_form(nurse, typed))
    assert response.status_code == 200
    assert "Numéro de portable invalide" in response.content.decode()
    nurse.refresh_from_db()
    assert nurse.phone == ""


def test_an_sms_to_a_number_stored_before_the_check_fails_with_its_reason(
    nurse, person, referent, django_capture_on_commit_callbacks
):
    from common.notify import notify
    from notifications.channels import LocmemSMSBackend
    from notifications.models import NotificationPreference

    type(nurse).objects.filter(pk=nurse.pk).update(phone="0140000001")
    NotificationPreference.objects.update_or_create(
        user=nurse, event_type="liaison.alert", defaults={"frequency": "immediate", "sms": True}
    )
    LocmemSMSBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify("liaison.alert", person=person, actor=referent, recipients=[nurse])
    delivery = Delivery.objects.get(user=nurse, channel="sms")
    assert delivery.status == "failed" and "invalide" in delivery.last_error
    assert LocmemSMSBackend.outbox == []


def _user_form(user, phone: str) -> dict:
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": phone,
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%d/%m/%Y"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
    }
