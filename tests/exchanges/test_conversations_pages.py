"""The professionals' pages of the exchanges, used as the professionals would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.http import Http404
from django.urls import reverse

from coordination import services as coordination
from coordination.models import AccessLog, CircleMember, Level
from exchanges import services
from exchanges.models import Conversation, ConversationKind, Message, MessageAttachment
from notifications.models import Notification
from tests.conftest import login
from tests.exchanges.conftest import photo


def _url(name, *args):
    return reverse(f"exchanges:{name}", args=args)


def _post(client, conversation, body, **headers):
    return client.post(_url("post", conversation.pk), {"body": body}, **headers)


def test_it_starts_a_conversation_about_a_person_from_its_pages(person, referent, nurse):
    client = login(referent)
    overview = client.get(reverse("coordination:person", args=[person.pk]))
    assert _url("person", person.pk) in overview.content.decode()
    assert "Nouvel échange entre professionnels" in client.get(_url("person", person.pk)).content.decode()
    response = client.post(
        _url("person_start", person.pk),
        {"subject": "Retour à domicile", "participants": [nurse.pk], "body": "Qui passe jeudi soir ?"},
    )
    conversation = Conversation.objects.get()
    assert response.status_code == 302 and response.url == _url("conversation", conversation.pk)
    assert conversation.kind == ConversationKind.PERSON and conversation.person == person
    listing = login(nurse).get(_url("list")).content.decode()
    assert "Retour à domicile" in listing and "1 non lu" in listing
    page = login(nurse).get(_url("conversation", conversation.pk)).content.decode()
    assert "Qui passe jeudi soir ?" in page
    assert "1 non lu" not in login(nurse).get(_url("list")).content.decode()


def test_it_refuses_a_participant_without_the_right_naming_the_field(person, referent, external_pro):
    response = login(referent).post(
        _url("person_start", person.pk),
        {"subject": "Kiné", "participants": [external_pro.pk], "body": "Bonjour"},
    )
    assert response.status_code == 400
    assert "participants" in response.context["form"].errors
    assert not Conversation.objects.exists()


def test_it_hides_the_conversation_from_a_participant_who_loses_the_right(
    conversation, person, person_user, referent, nurse
):
    client = login(nurse)
    assert client.get(_url("conversation", conversation.pk)).status_code == 200
    member = CircleMember.objects.get(person=person, user=nurse, ended_at__isnull=True)
    coordination.grants_set(actor=person_user, member=member, levels={"exchanges": Level.NONE})
    assert client.get(_url("conversation", conversation.pk)).status_code == 404
    assert "Retour d'hospitalisation" not in client.get(_url("list")).content.decode()
    assert _post(client, conversation, "Encore là ?").status_code == 404
    participants = login(referent).get(_url("conversation", conversation.pk)).context["participants"]
    assert [p.user for p in participants] == [referent]
    # The row is kept: given the right back, the nurse sees it again.
    coordination.grants_set(actor=person_user, member=member, levels={"exchanges": Level.WRITE})
    assert client.get(_url("conversation", conversation.pk)).status_code == 200


@pytest.mark.parametrize("who", ["stranger", "other_pro"])
def test_it_answers_404_to_a_stranger_on_every_exchanges_url(request, who, conversation, person, referent):
    message = conversation.messages.get()
    attachment = MessageAttachment.objects.create(
        message=message, file="exchanges/x.jpg", original_name="x.jpg", content_type="image/jpeg", size=1, sha256="0"
    )
    client = login(request.getfixturevalue(who))
    gets = [
        _url("conversation", conversation.pk),
        _url("conversation", conversation.pk) + f"?avant={message.pk}",
        _url("person", person.pk),
        _url("person_start", person.pk),
        _url("edit", message.pk),
        _url("file", message.pk),
        _url("attachment", attachment.pk),
        _url("thumbnail", attachment.pk),
    ]
    posts = [
        _url("post", conversation.pk),
        _url("mark_read", conversation.pk),
        _url("participants_add", conversation.pk),
        _url("leave", conversation.pk),
        _url("edit", message.pk),
        _url("withdraw", message.pk),
        _url("file", message.pk),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, {"body": "x", "category": "autre"}).status_code == 404, url
    assert "Retour d'hospitalisation" not in client.get(_url("list")).content.decode()
    assert Message.objects.count() == 1


def test_it_keeps_professionals_conversations_from_the_carer(conversation, person, person_user, carer):
    # Even with the right on the person's exchanges, a carer never reads the professionals' conversations.
    member = CircleMember.objects.get(person=person, user=carer, ended_at__isnull=True)
    coordination.grants_set(actor=person_user, member=member, levels={"exchanges": Level.WRITE})
    client = login(carer)
    assert client.get(_url("conversation", conversation.pk)).status_code == 404
    assert _post(client, conversation, "Je peux lire ?").status_code == 404
    with pytest.raises(Http404):
        services.participants_add(actor=carer, conversation=conversation, users=[carer])
    assert not conversation.participants.filter(user=carer).exists()


def test_it_logs_every_read_of_a_person_conversation(conversation, person, nurse):
    login(nurse).get(_url("conversation", conversation.pk))
    assert AccessLog.objects.filter(
        user=nurse, person=person, category="exchanges", action="read", path=_url("conversation", conversation.pk)
    ).exists()
    login(nurse).get(_url("list"))
    assert AccessLog.objects.filter(user=nurse, person=person, category="exchanges", path=_url("list")).exists()


def test_it_opens_on_the_last_page_with_older_messages_behind_a_link(settings, conversation, referent, nurse):
    settings.EXCHANGES_PAGE_SIZE = 5
    for n in range(1, 12):
        services.message_post(actor=referent, conversation=conversation, body=f"Point numéro {n}.")
    client = login(nurse)
    page = client.get(_url("conversation", conversation.pk))
    html = page.content.decode()
    assert "Point numéro 11." in html and "Point numéro 7." in html and "Point numéro 6." not in html
    older = page.context["page"].older_than
    assert f'href="?avant={older}#conversation-messages"' in html
    assert f'data-last-message-id="{Message.objects.order_by("-pk").first().pk}"' in html
    # Without JavaScript, the link opens the page before; with HTMX, only the messages come.
    plain = client.get(_url("conversation", conversation.pk) + f"?avant={older}").content.decode()
    assert "Point numéro 6." in plain and "Point numéro 2." in plain and "Point numéro 11." not in plain
    fragment = client.get(_url("conversation", conversation.pk) + f"?avant={older}", HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert "Point numéro 6." in text and "<html" not in text and "Messages précédents" in text


def test_it_appends_a_posted_message_and_a_fresh_composer_with_htmx(conversation, nurse):
    response = _post(login(nurse), conversation, "J'y vais à 19 h.", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    message = Message.objects.order_by("-pk").first()
    assert response.status_code == 200 and message.body == "J'y vais à 19 h."
    assert f'id="m{message.pk}"' in html and 'id="composer"' in html and 'hx-swap-oob="true"' in html
    empty = _post(login(nurse), conversation, "  ", HTTP_HX_REQUEST="true")
    assert empty.status_code == 400 and empty["HX-Retarget"] == "#composer"
    assert "Écrivez le message" in empty.content.decode()
    assert Message.objects.count() == 2


def test_it_notifies_a_mentioned_participant_once_and_says_nothing_of_the_message(conversation, referent, nurse):
    mail.outbox.clear()
    Notification.objects.all().delete()
    _post(login(referent), conversation, "@Inès Infirmière la plaie du talon saigne, pansement à refaire.")
    assert list(Notification.objects.filter(recipient=nurse).values_list("event_type", flat=True)) == [
        "exchanges.mention"
    ]
    message = Message.objects.order_by("-pk").first()
    assert list(message.mentions.all()) == [nurse]
    # An edit that keeps the mention does not tell her again.
    login(referent).post(_url("edit", message.pk), {"body": "@Inès Infirmière la plaie saigne encore."})
    assert Notification.objects.filter(recipient=nurse).count() == 1
    sent = [m for m in mail.outbox if nurse.email in m.to]
    assert sent, "a mention is e-mailed by default"
    for notice in sent:
        text = notice.subject + notice.body + "".join(str(a[0]) for a in getattr(notice, "alternatives", []))
        for secret in ("plaie", "talon", "pansement", "Retour d'hospitalisation", "Jeanne", "MARTIN"):
            assert secret not in text


def test_it_keeps_the_previous_text_of_an_edited_message(conversation, referent, nurse):
    message = conversation.messages.get()
    assert login(nurse).get(_url("edit", message.pk)).status_code == 403
    client = login(referent)
    assert client.get(_url("edit", message.pk)).status_code == 200
    response = client.post(_url("edit", message.pk), {"body": "Jeanne rentre vendredi."})
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.body == "Jeanne rentre vendredi." and message.edited_at
    assert list(message.revisions.values_list("body", flat=True)) == ["Jeanne rentre jeudi, qui passe le soir ?"]
    assert "Jeanne rentre jeudi, qui passe le soir ?" in client.get(_url("edit", message.pk)).content.decode()


def test_it_withdraws_a_message_within_the_grace_period_only(settings, conversation, referent, nurse):
    message = conversation.messages.get()
    assert login(nurse).post(_url("withdraw", message.pk)).status_code == 403  # not hers
    response = login(referent).post(_url("withdraw", message.pk), HTTP_HX_REQUEST="true")
    assert "Message retiré" in response.content.decode()
    message.refresh_from_db()
    assert message.withdrawn_at and message.body == "Jeanne rentre jeudi, qui passe le soir ?"
    assert "qui passe le soir" not in login(nurse).get(_url("conversation", conversation.pk)).content.decode()

    late = services.message_post(actor=referent, conversation=conversation, body="Rendez-vous à 18 h.")
    Message.objects.filter(pk=late.pk).update(
        created_at=late.created_at - timedelta(minutes=settings.EXCHANGES_GRACE_MINUTES + 1)
    )
    client = login(referent)
    assert (
        "Retirer" not in client.get(_url("conversation", conversation.pk)).content.decode().split(f'id="m{late.pk}"')[1]
    )
    response = client.post(_url("withdraw", late.pk), follow=True)
    assert "Le délai de modification" in response.content.decode()
    assert client.post(_url("edit", late.pk), {"body": "Changé"}).status_code == 302
    late.refresh_from_db()
    assert late.withdrawn_at is None and late.body == "Rendez-vous à 18 h." and not late.revisions.exists()


def test_it_files_a_message_into_the_liaison_notebook_keeping_author_date_and_files(conversation, referent, nurse):
    posted = services.message_post(
        actor=nurse, conversation=conversation, body="Rougeur au talon gauche ce matin.", files=[photo()]
    )
    Message.objects.filter(pk=posted.pk).update(created_at=posted.created_at - timedelta(hours=2))
    posted.refresh_from_db()
    client = login(referent)
    assert "Verser au cahier de liaison" in client.get(_url("conversation", conversation.pk)).content.decode()
    assert client.get(_url("file", posted.pk)).status_code == 200
    response = client.post(_url("file", posted.pk), {"category": "observations"})
    posted.refresh_from_db()
    transmission = posted.transmission
    assert response.status_code == 302 and response.url == reverse("liaison:transmission", args=[transmission.pk])
    assert transmission.author == nurse and transmission.observed_at == posted.created_at
    assert transmission.text == "Rougeur au talon gauche ce matin." and transmission.scope == "shared"
    [copied] = transmission.attachments.all()
    assert copied.original_name == "plaie.jpg" and copied.sha256 == posted.attachments.get().sha256
    detail = client.get(response.url).content.decode()
    assert "Issue d'un échange" in detail and _url("conversation", conversation.pk) in detail
    assert "Versé au cahier de liaison" in client.get(_url("conversation", conversation.pk)).content.decode()
    again = client.post(_url("file", posted.pk), {"category": "observations"})
    assert again.status_code == 400 and "déjà été versé" in again.content.decode()
    assert transmission.person.transmissions.count() == 1


def test_it_starts_a_topic_with_the_team_and_reminds_no_personal_data(structure, referent, nurse, other_pro):
    client = login(referent)
    form = client.get(_url("topic_start")).content.decode()
    assert "aucune donnée personnelle" in form
    response = client.post(
        _url("topic_start"),
        {"subject": "Protocole chutes", "structure": structure.pk, "invited": "", "body": "Relisons le protocole."},
    )
    conversation = Conversation.objects.get()
    assert response.status_code == 302 and conversation.kind == ConversationKind.TOPIC and conversation.person is None
    page = login(nurse).get(_url("conversation", conversation.pk)).content.decode()
    assert "Relisons le protocole." in page and "aucune donnée personnelle" in page
    assert login(other_pro).get(_url("conversation", conversation.pk)).status_code == 404
    invited = client.post(_url("participants_add", conversation.pk), {"invited": other_pro.email})
    assert invited.status_code == 302
    assert login(other_pro).get(_url("conversation", conversation.pk)).status_code == 200
    unknown = client.post(
        _url("topic_start"), {"subject": "Autre", "invited": "personne@nulle-part.fr", "body": "Bonjour"}
    )
    assert unknown.status_code == 400 and "personne@nulle-part.fr" in unknown.content.decode()


def test_it_runs_a_bounded_number_of_queries_on_a_long_conversation(
    settings, conversation, referent, nurse, django_assert_max_num_queries
):
    settings.EXCHANGES_PAGE_SIZE = 20
    Message.objects.bulk_create(
        [Message(conversation=conversation, author=referent if n % 2 else nurse, body=f"n{n}") for n in range(300)]
    )
    client = login(nurse)
    client.get(_url("conversation", conversation.pk))
    with django_assert_max_num_queries(20):
        response = client.get(_url("conversation", conversation.pk))
    assert len(response.context["page"].items) == 20
    older = response.context["page"].older_than
    with django_assert_max_num_queries(20):
        client.get(_url("conversation", conversation.pk) + f"?avant={older}", HTTP_HX_REQUEST="true")


def test_it_opens_a_short_and_a_long_conversation_with_the_same_queries(settings, conversation, referent, nurse):
    """Constant queries whatever the length (issue 23; bench/exchanges.py times it): the
    session and MFA, the conversation and the gate with its log row, one page of
    messages, the participants and candidates together, the receipts, the unread count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(nurse)
    url = _url("conversation", conversation.pk)
    client.get(url)
    with CaptureQueriesContext(connection) as short:
        client.get(url)
    Message.objects.bulk_create(
        [Message(conversation=conversation, author=referent if n % 2 else nurse, body=f"n{n}") for n in range(300)]
    )
    client.get(url)
    with CaptureQueriesContext(connection) as long:
        response = client.get(url)
    assert len(response.context["page"].items) == settings.EXCHANGES_PAGE_SIZE
    assert len(long.captured_queries) == len(short.captured_queries) <= 14, len(short.captured_queries)


def test_it_runs_a_bounded_number_of_queries_on_the_list(person, referent, nurse, django_assert_max_num_queries):
    for n in range(25):
        services.conversation_start(
            actor=referent,
            kind=ConversationKind.PERSON,
            person=person,
            subject=f"Sujet {n}",
            participants=[nurse],
            body="Bonjour",
        )
    client = login(nurse)
    with django_assert_max_num_queries(12):
        response = client.get(_url("list"))
    assert response.content.decode().count("1 non lu") == 25


def _article(client, conversation, message) -> str:
    import lxml.html

    tree = lxml.html.fromstring(client.get(_url("conversation", conversation.pk)).content.decode())
    return " ".join(tree.get_element_by_id(f"m{message.pk}").text_content().split())


def test_it_lists_under_vu_par_the_readers_but_never_the_author(conversation, referent, nurse):
    answer = services.message_post(actor=nurse, conversation=conversation, body="Je passe jeudi.")
    # The referent opens the page: the nurse's own message is not "seen by" her.
    assert "Vu par" not in _article(login(referent), conversation, answer)
    # The referent has now read it: the nurse sees him, and not herself, under it.
    seen = _article(login(nurse), conversation, answer)
    assert "Vu par Rémi Référent" in seen and "Inès" not in seen.split("Vu par", 1)[1]


def test_it_offers_to_add_participants_only_when_someone_may_be_added(conversation, person, person_user, referent):
    client = login(referent)
    page = client.get(_url("conversation", conversation.pk)).content.decode()
    # The referent and the nurse are the only ones who may read Jeanne's exchanges: both are in.
    assert "Ajouter des participants" not in page and "Aucun autre professionnel" not in page
    assert _url("participants_add", conversation.pk) not in page


def test_it_offers_to_add_a_professional_who_gained_the_right(
    conversation, person, person_user, referent, external_pro
):
    member = CircleMember.objects.get(person=person, user=external_pro, ended_at__isnull=True)
    coordination.grants_set(actor=person_user, member=member, levels={"exchanges": Level.READ})
    client = login(referent)
    page = client.get(_url("conversation", conversation.pk)).content.decode()
    assert "Ajouter des participants" in page and "Karim Kiné" in page
    client.post(_url("participants_add", conversation.pk), {"participants": [external_pro.pk]})
    assert login(external_pro).get(_url("conversation", conversation.pk)).status_code == 200
    assert "Ajouter des participants" not in client.get(_url("conversation", conversation.pk)).content.decode()


def test_it_keeps_inviting_to_a_topic_by_e_mail(structure, referent):
    topic = services.conversation_start(
        actor=referent, kind=ConversationKind.TOPIC, structure=structure, subject="Protocole", body="Relisons."
    )
    page = login(referent).get(_url("conversation", topic.pk)).content.decode()
    assert "Ajouter des participants" in page and 'name="invited"' in page


def test_it_works_without_javascript_and_without_inline_script(conversation, nurse):
    import lxml.html

    client = login(nurse)
    response = client.get(_url("conversation", conversation.pk))
    tree = lxml.html.fromstring(response.content.decode())
    # "Actualiser" reloads the page: the new messages show without live updates.
    [refresh] = tree.xpath("//a[normalize-space()='Actualiser']")
    assert refresh.get("href").startswith(_url("conversation", conversation.pk))
    # The composer posts as a plain form too.
    [composer] = tree.xpath("//section[@id='composer']//form")
    assert composer.get("method") == "post" and composer.get("action") == _url("post", conversation.pk)
    # CSP: every script is a file; no inline handler.
    assert all(script.get("src") for script in tree.iter("script"))
    assert not [a for el in tree.iter() for a in el.attrib if a.startswith(("on", "hx-on"))]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"].split("script-src", 1)[1].split(";", 1)[0]
    assert _post(client, conversation, "Sans JavaScript.").status_code == 302
    assert "Sans JavaScript." in client.get(refresh.get("href")).content.decode()


def test_opening_the_conversation_marks_it_read_each_time_something_new_came(conversation, referent, nurse):
    client = login(nurse)
    assert "1 non lu</span>" in client.get(_url("list")).content.decode()
    client.get(_url("conversation", conversation.pk))
    assert "non lu</span>" not in client.get(_url("list")).content.decode()
    client.get(_url("conversation", conversation.pk))  # nothing new: nothing to write
    services.message_post(actor=referent, conversation=conversation, body="Et vendredi ?")
    assert "1 non lu</span>" in client.get(_url("list")).content.decode()
    client.get(_url("conversation", conversation.pk))
    assert "non lu</span>" not in client.get(_url("list")).content.decode()
    last = conversation.messages.order_by("-pk").first()
    assert conversation.participants.get(user=nurse).last_read_message_id == last.pk
