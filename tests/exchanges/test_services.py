from __future__ import annotations

from exchanges import selectors, services
from exchanges.models import Message


def test_it_starts_a_conversation_with_its_first_message(conversation, referent, nurse):
    assert conversation.messages.get().body == "Jeanne rentre jeudi, qui passe le soir ?"
    assert set(selectors.audience(conversation)) == {referent, nurse}
    listed = selectors.my_conversations(nurse).get()
    assert listed.unread == 1
    assert selectors.my_conversations(referent).get().unread == 0


def test_it_counts_unread_after_the_last_read_message(conversation, referent, nurse):
    services.conversation_mark_read(actor=nurse, conversation=conversation)
    services.message_post(actor=referent, conversation=conversation, body="Et vendredi ?")
    services.message_post(actor=referent, conversation=conversation, body="Merci.")
    assert selectors.my_conversations(nurse).get().unread == 2
    assert Message.objects.filter(conversation=conversation).count() == 3
