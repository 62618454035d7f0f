"""The admin shows the exchanges for support and changes nothing."""

from __future__ import annotations

from django.urls import reverse

from exchanges.models import Message
from tests.conftest import login


def test_it_shows_conversations_and_messages_read_only_in_the_admin(admin_user, conversation):
    client = login(admin_user)
    message = conversation.messages.get()
    for name, args in (
        ("exchanges_conversation_changelist", []),
        ("exchanges_conversation_change", [conversation.pk]),
        ("exchanges_message_changelist", []),
        ("exchanges_message_change", [message.pk]),
    ):
        assert client.get(reverse(f"admin:{name}", args=args)).status_code == 200, name
    assert client.get(reverse("admin:exchanges_message_add")).status_code == 403
    assert client.post(reverse("admin:exchanges_message_delete", args=[message.pk]), {"post": "yes"}).status_code == 403
    assert Message.objects.filter(pk=message.pk).exists()
