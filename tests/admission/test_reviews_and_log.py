"""What an administrator decides of a hidden duplicate; what the person reads of a scoped read."""

from __future__ import annotations

import datetime
import html

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from admission import services
from admission.models import IdentityReview, IdentityReviewStatus
from coordination import services as coordination
from coordination.access import AccessDenied
from coordination.models import Accompaniment, Person
from tests.conftest import login

pytestmark = pytest.mark.django_db

TRAITS = {"birth_name": "LEROY", "birth_first_names": "Anne", "birth_date": datetime.date(1950, 2, 3), "sex": "F"}


@pytest.fixture
def review(structure, other_structure, referent, admin_user):
    coordination.person_create(actor=admin_user, structure=other_structure, **TRAITS)
    return services.identity_review_ask(
        actor=referent, structure=structure, **{**TRAITS, "birth_first_names": "Anne-Marie"}
    )


def test_it_links_the_same_person_once_an_administrator_decided(review, structure, admin_user, referent):
    with pytest.raises(AccessDenied):
        services.identity_review_decide(actor=referent, review=review, is_same_person=True)
    services.identity_review_decide(actor=admin_user, review=review, is_same_person=True)
    review.refresh_from_db()
    assert review.status == IdentityReviewStatus.LINKED and review.decided_by == admin_user
    assert Accompaniment.objects.filter(person=review.candidate, structure=structure, ended_on__isnull=True).exists()
    assert Person.objects.count() == 1


def test_it_creates_the_person_typed_when_it_is_not_the_same(review, structure, admin_user):
    services.identity_review_decide(actor=admin_user, review=review, is_same_person=False)
    created = Person.objects.exclude(pk=review.candidate_id).get()
    assert created.birth_first_names == "Anne-Marie"
    assert Accompaniment.objects.filter(person=created, structure=structure).exists()
    assert IdentityReview.objects.get().status == IdentityReviewStatus.DISMISSED


def test_it_tells_the_person_in_plain_words_who_read_the_file_of_a_request(
    person, person_user, carer, offers, other_structure, other_admin
):
    admission_request = services.create_request(
        actor=carer, person=person, structures=[other_structure], message="Une place en SSIAD, s'il vous plaît."
    )
    copy = admission_request.copies.get()
    assert login(other_admin).get(reverse("admission:copy", args=[copy.pk])).status_code == 200
    page = login(person_user).get(reverse("portal_access_log"))
    text = " ".join(html.unescape(strip_tags(page.content.decode())).split())
    assert "dossier d'une demande d'admission qui lui a été envoyée" in text
