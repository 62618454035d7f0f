"""`{% exchange_messages items %}`: a page of messages' markup (exchanges.rendering)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from exchanges.rendering import MessageRenderer

register = template.Library()


@register.simple_tag(takes_context=True)
def exchange_messages(context, items) -> SafeString:
    """Every message of `items` (decorated by exchanges.views.shared.decorate_messages),
    as `exchanges/partials/message.html` renders each, URLs reversed once."""
    return MessageRenderer(context["request"], can_file=bool(context.get("can_file"))).many(items)
