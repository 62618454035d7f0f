from __future__ import annotations

from django.core.files.storage import default_storage

from coordination import retention
from exchanges import services
from exchanges.models import Conversation, Message, MessageAttachment
from liaison.models import Transmission
from tests.exchanges.conftest import photo


def test_it_destroys_the_person_conversations_with_the_record_and_before_the_notebook(
    conversation, person, referent, nurse
):
    posted = services.message_post(actor=nurse, conversation=conversation, body="Photo du pansement", files=[photo()])
    services.message_file_to_liaison(actor=referent, message=posted)
    stored = MessageAttachment.objects.get().file.name
    topic = services.conversation_start(
        actor=referent, kind="topic", subject="Protocole", structure=person.accompaniments.get().structure, body="Hi"
    )
    kinds = [k.key for k in retention.kinds()]
    assert kinds.index("exchanges") < kinds.index("liaison")
    kind = next(k for k in retention.kinds() if k.key == "exchanges")
    assert kind.count(person) == 2
    for k in retention.kinds():
        if k.key in ("exchanges", "liaison"):
            k.destroy(person)
    assert not Conversation.objects.filter(person=person).exists() and not Transmission.objects.exists()
    assert list(Conversation.objects.all()) == [topic] and Message.objects.filter(conversation=topic).count() == 1
    assert not default_storage.exists(stored)
