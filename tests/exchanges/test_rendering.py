"""The conversation page writes its messages in Python (exchanges.rendering): the markup
must be the template's (`exchanges/partials/message.html`, which the live updates, the
user portal and a post's answer still render), every branch of it, and nothing an
author typed may reach the page unescaped."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from exchanges import selectors, services
from exchanges.models import MessageAttachment
from exchanges.rendering import MessageRenderer
from exchanges.views.shared import decorate_messages
from tests.conftest import login
from tests.exchanges.conftest import pdf_file, photo

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script> & <b>gras</b>\nligne 2'


def _normal(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken" value=""', html)
    return " ".join(html.split())


@pytest.fixture
def messages(conversation, referent, nurse):
    """Messages covering every branch of the template, seen by the referent."""
    services.message_post(actor=nurse, conversation=conversation, body=HOSTILE, files=[photo(), pdf_file()])
    services.message_post(actor=referent, conversation=conversation, body="À moi, modifiable.")
    services.message_post(actor=nurse, conversation=conversation, body="Retiré bientôt.")
    services.message_post(actor=nurse, conversation=conversation, body="Versé au cahier.")
    services.message_post(actor=nurse, conversation=conversation, body="", files=[photo('"><img src=x>.jpg')])
    items = selectors.messages_page(conversation).items[1:]  # after the one the conversation began with
    decorate_messages(items, referent, {items[0].pk: [nurse]})
    items[0].author_name = '<i>"Inès"</i> & Cie'
    items[0].edited_at = timezone.now()
    items[2].withdrawn_at = timezone.now()
    items[2].edited_at = timezone.now()
    items[3].transmission_id = 4242
    items[4].seen_by_names = "<u>Rémi</u> & Inès"
    assert items[1].can_edit and not items[0].can_edit
    return items


def _request(user):
    request = RequestFactory().get("/echanges/1/")
    request.user = user or AnonymousUser()
    return request


@pytest.mark.parametrize("can_file", [True, False])
def test_it_writes_each_message_as_the_template_does(messages, conversation, referent, can_file):
    request = _request(referent)
    renderer = MessageRenderer(request, can_file=can_file)
    for m in messages:
        expected = render_to_string(
            "exchanges/partials/message.html",
            {"m": m, "conversation": conversation, "can_file": can_file},
            request=request,
        )
        assert _normal(str(renderer.one(m))) == _normal(expected), m.body


def test_it_escapes_what_an_author_typed(messages, referent):
    html = str(MessageRenderer(_request(referent), can_file=True).many(messages))
    assert "<script>" not in html and "<b>gras</b>" not in html and "<i>" not in html and "<u>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;gras&lt;/b&gt;<br>ligne 2" in html
    assert 'alt="Photo jointe : &quot;&gt;&lt;img src=x&gt;.jpg"' in html
    assert "Vu par &lt;u&gt;Rémi&lt;/u&gt; &amp; Inès" in html


def test_the_page_shows_the_messages_with_their_actions(conversation, referent, nurse):
    mine = services.message_post(actor=referent, conversation=conversation, body=HOSTILE, files=[pdf_file()])
    page = login(referent).get(reverse("exchanges:conversation", args=[conversation.pk])).content.decode()
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    attachment = MessageAttachment.objects.get(message=mine)
    assert f'<a href="{reverse("exchanges:attachment", args=[attachment.pk])}">compte-rendu.pdf (PDF)</a>' in page
    assert f'action="{reverse("exchanges:withdraw", args=[mine.pk])}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert page.count('<article class="exchange-message') == 2
