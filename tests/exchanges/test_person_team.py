"""Conversations between the person's side and their team, as the professionals see
them (the person's own pages are the user portal's)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coordination import services as coordination
from coordination.models import AuditEvent, CircleMember, Level
from exchanges import selectors, services
from exchanges.models import Conversation, ConversationKind, Message
from notifications.models import Notification
from tests.conftest import login


@pytest.fixture
def to_the_team(person, person_user, structure):
    return services.conversation_start(
        actor=person_user,
        kind=ConversationKind.PERSON_TEAM,
        person=person,
        structure=structure,
        subject="Ma kiné",
        body="Bonjour, le kiné peut-il venir mardi ?",
    )


def test_it_tells_the_team_that_a_message_from_the_person_waits(to_the_team, referent, nurse):
    kinds = set(
        Notification.objects.filter(recipient__in=[referent, nurse], event_type__startswith="exchanges.").values_list(
            "event_type", flat=True
        )
    )
    assert kinds == {"exchanges.person_message"}
    listing = login(nurse).get(reverse("exchanges:list")).content.decode()
    assert "Ma kiné" in listing and "1 non lu" in listing


def test_it_lets_a_team_member_answer_and_tells_the_person(to_the_team, person_user, nurse):
    client = login(nurse)
    url = reverse("exchanges:conversation", args=[to_the_team.pk])
    assert "le kiné peut-il venir mardi" in client.get(url).content.decode()
    client.post(reverse("exchanges:post", args=[to_the_team.pk]), {"body": "Oui, mardi à 10 h."})
    assert Message.objects.filter(conversation=to_the_team, author=nurse).exists()
    # Told that a message from the team waits (by e-mail too: the person's own type).
    assert Notification.objects.filter(recipient=person_user, event_type="exchanges.team_message").count() == 1
    # She read it; the person sees it in their read receipts.
    assert (
        nurse
        in selectors.read_receipts(list(selectors.participants(to_the_team)))[
            Message.objects.order_by("-pk").first().pk
        ]
    )


def test_it_shows_the_carer_only_the_conversations_they_take_part_in(
    to_the_team, person, person_user, carer, structure
):
    member = CircleMember.objects.get(person=person, user=carer, ended_at__isnull=True)
    coordination.grants_set(actor=person_user, member=member, levels={"exchanges": Level.WRITE})
    assert not selectors.visible_conversations(carer).exists()
    hers = services.conversation_start(
        actor=carer,
        kind=ConversationKind.PERSON_TEAM,
        person=person,
        structure=structure,
        subject="Visites",
        body="Puis-je venir dimanche ?",
    )
    assert list(selectors.visible_conversations(carer)) == [hers]
    # Without the right any more, not even hers.
    coordination.grants_set(actor=person_user, member=member, levels={"exchanges": Level.NONE})
    assert not selectors.visible_conversations(carer).exists()


def test_it_keeps_a_team_outside_a_conversation_with_a_structure_that_does_not_accompany(
    person, person_user, other_structure, other_pro
):
    with pytest.raises(ValidationError) as refused:
        services.conversation_start(
            actor=person_user,
            kind=ConversationKind.PERSON_TEAM,
            person=person,
            structure=other_structure,
            subject="Bonjour",
            body="Bonjour",
        )
    assert "ne vous accompagne pas" in str(refused.value)
    assert not selectors.visible_conversations(other_pro).exists()


def test_it_audits_the_changes_of_a_person_conversation_without_its_text(to_the_team, person, nurse):
    login(nurse).post(reverse("exchanges:post", args=[to_the_team.pk]), {"body": "Le kiné confirme."})
    events = AuditEvent.objects.filter(person=person, event_type__startswith="exchange")
    assert {e.event_type for e in events} >= {"exchange_started", "exchange_message_posted"}
    assert all("kiné" not in str(e.data) for e in events)


def test_it_opens_a_conversation_to_one_named_professional_only(person, person_user, referent, nurse):
    conversation = services.conversation_start(
        actor=person_user,
        kind=ConversationKind.PERSON_TEAM,
        person=person,
        professional=referent,
        subject="Pour mon référent",
        body="Pouvons-nous parler de mon projet ?",
    )
    assert login(referent).get(reverse("exchanges:conversation", args=[conversation.pk])).status_code == 200
    assert login(nurse).get(reverse("exchanges:conversation", args=[conversation.pk])).status_code == 404
    assert Notification.objects.filter(recipient=referent, event_type="exchanges.person_message").count() == 1


# --- A professional writes to the person's side ----------------------------------------------

SECRET = "Résultats de la prise de sang"
BODY = "Votre glycémie a baissé : on en parle jeudi ?"


def _grant(person, person_user, user, level=Level.WRITE):
    member = CircleMember.objects.get(person=person, user=user, ended_at__isnull=True)
    coordination.grants_set(actor=person_user, member=member, levels={"exchanges": level})


def _write_to_side(client, person, structure, recipients, subject=SECRET, body=BODY):
    return client.post(
        reverse("exchanges:person_side_start", args=[person.pk]),
        {
            "subject": subject,
            "participants": [u.pk for u in recipients],
            "structure": structure.pk if structure else "",
            "body": body,
        },
    )


def _path(url: str) -> str:
    return url.split("#", 1)[0]


def test_a_professional_writes_to_the_person_and_a_carer_who_answer_from_the_portal(
    settings, person, person_user, carer, structure, referent, nurse
):
    from django.core import mail

    from notifications.channels import LocmemSMSBackend
    from notifications.models import NotificationPreference

    _grant(person, person_user, carer)
    settings.SMS_BACKEND = "notifications.channels.LocmemSMSBackend"
    LocmemSMSBackend.outbox.clear()
    carer.phone = "+33612345678"
    carer.save(update_fields=["phone"])
    NotificationPreference.objects.create(
        user=carer, event_type="exchanges.team_message", frequency="immediate", in_app=True, email=True, sms=True
    )
    mail.outbox.clear()
    client = login(referent)
    people = client.get(reverse("exchanges:person", args=[person.pk])).content.decode()
    assert reverse("exchanges:person_side_start", args=[person.pk]) in people
    form = client.get(reverse("exchanges:person_side_start", args=[person.pk])).content.decode()
    assert "Jeanne Martin" in form and "Claire Martin" in form and "Inès" not in form

    Notification.objects.all().delete()
    response = _write_to_side(client, person, structure, [person_user, carer])
    conversation = Conversation.objects.get()
    assert response.status_code == 302 and response.url == reverse("exchanges:conversation", args=[conversation.pk])
    assert conversation.kind == ConversationKind.PERSON_TEAM and conversation.structure == structure

    # The person and the carer are told that a message waits, and nothing else.
    for user in (person_user, carer):
        [notice] = Notification.objects.filter(recipient=user)
        assert notice.event_type == "exchanges.team_message"
        assert notice.url.startswith(reverse("portal_conversation", args=[conversation.pk]))
        page = login(user).get(_path(notice.url))
        assert page.status_code == 200 and BODY in page.content.decode().replace("&#x27;", "'")
    sent = [m for m in mail.outbox if {person_user.email, carer.email} & set(m.to)]
    assert len(sent) == 2 and LocmemSMSBackend.outbox
    texts = [m.subject + m.body + "".join(str(a[0]) for a in getattr(m, "alternatives", [])) for m in sent]
    texts += [text for _to, text in LocmemSMSBackend.outbox]
    for text in texts:
        assert "vous attend" in text
        for secret in ("glycémie", "prise de sang", "Jeanne", "MARTIN", "Rémi", "Tilleuls"):
            assert secret not in text

    # The carer answers from her portal; the whole team is told and the link opens their page.
    Notification.objects.all().delete()
    answer = login(carer).post(reverse("portal_conversation_reply", args=[conversation.pk]), {"body": "Oui, jeudi."})
    assert answer.status_code == 302
    for user in (referent, nurse):
        [notice] = Notification.objects.filter(recipient=user)
        assert notice.event_type == "exchanges.person_message"
        page = login(user).get(_path(notice.url))
        assert page.status_code == 200 and "Oui, jeudi." in page.content.decode()
    [told] = Notification.objects.filter(recipient=person_user)
    assert told.event_type == "exchanges.message" and login(person_user).get(_path(told.url)).status_code == 200
    assert "Dernier message" in login(person_user).get(reverse("portal_messages")).content.decode()


def test_a_professional_may_write_alone_to_the_person(person, person_user, referent, nurse):
    response = _write_to_side(login(referent), person, None, [person_user], subject="Mon projet")
    conversation = Conversation.objects.get()
    assert response.status_code == 302 and conversation.professional == referent and conversation.structure is None
    assert login(nurse).get(reverse("exchanges:conversation", args=[conversation.pk])).status_code == 404
    page = login(person_user).get(reverse("portal_conversation", args=[conversation.pk])).content.decode()
    assert "Avec : Rémi Référent" in page


def test_the_person_side_sees_only_what_it_was_written(person, person_user, carer, structure, referent):
    _grant(person, person_user, carer)
    _write_to_side(login(referent), person, structure, [person_user])
    conversation = Conversation.objects.get()
    client = login(carer)
    assert SECRET not in client.get(reverse("portal_messages")).content.decode()
    assert client.get(reverse("portal_conversation", args=[conversation.pk])).status_code == 404


def test_it_refuses_whom_it_may_not_write_to_naming_the_field(person, person_user, carer, structure, referent):
    client = login(referent)
    # The carer has no right on Jeanne's exchanges: not offered, refused.
    assert "Claire Martin" not in client.get(reverse("exchanges:person_side_start", args=[person.pk])).content.decode()
    refused = _write_to_side(client, person, structure, [carer])
    assert refused.status_code == 400 and "participants" in refused.context["form"].errors
    nobody = _write_to_side(client, person, structure, [])
    assert nobody.status_code == 400 and "participants" in nobody.context["form"].errors
    assert not Conversation.objects.exists()


def test_it_refuses_a_team_that_is_not_the_writers_naming_the_field(
    person, person_user, structure, other_structure, external_pro
):
    _grant(person, person_user, external_pro)
    client = login(external_pro)
    # The physiotherapist is in no team accompanying Jeanne: he writes in his own name only.
    form = client.get(reverse("exchanges:person_side_start", args=[person.pk]))
    assert list(form.context["form"].fields["structure"].queryset) == []
    refused = _write_to_side(client, person, structure, [person_user])
    assert refused.status_code == 400 and "structure" in refused.context["form"].errors
    assert not Conversation.objects.exists()
    assert _write_to_side(client, person, None, [person_user]).status_code == 302


def test_it_says_there_is_nobody_to_write_to(person, carer, referent):
    # No portal account for Jeanne, and her daughter has no access to her exchanges.
    type(person).objects.filter(pk=person.pk).update(user=None)
    client = login(referent)
    assert (
        reverse("exchanges:person_side_start", args=[person.pk])
        not in client.get(reverse("exchanges:person", args=[person.pk])).content.decode()
    )
    page = client.get(reverse("exchanges:person_side_start", args=[person.pk])).content.decode()
    assert "personne à qui écrire" in page and "<form" not in page.split("<main", 1)[-1].split("</main>")[0]


def test_a_reader_without_the_write_right_cannot_start_one(person, person_user, nurse):
    _grant(person, person_user, nurse, Level.READ)
    client = login(nurse)
    assert (
        reverse("exchanges:person_side_start", args=[person.pk])
        not in client.get(reverse("exchanges:person", args=[person.pk])).content.decode()
    )
    assert _write_to_side(client, person, None, [person_user]).status_code == 403
    assert not Conversation.objects.exists()


def test_a_carer_of_two_persons_opens_the_link_whichever_space_is_open(
    person, person_user, carer, structure, referent, other_structure, admin_user
):
    other = coordination.person_create(
        actor=admin_user,
        structure=other_structure,
        birth_name="MARTIN",
        birth_first_names="Paul",
        first_name="Paul",
        birth_date="1936-02-02",
        sex="M",
        birth_place_insee="75056",
    )
    coordination.carer_link_create(actor=admin_user, person=other, user=carer, relationship="aidant")
    _grant(person, person_user, carer)
    _write_to_side(login(referent), person, structure, [carer])
    [notice] = Notification.objects.filter(recipient=carer, event_type__startswith="exchanges.")
    client = login(carer)
    session = client.session
    session["portal_person_id"] = other.pk
    session.save()
    page = client.get(_path(notice.url))
    assert page.status_code == 200 and SECRET in page.content.decode().replace("&#x27;", "'")
