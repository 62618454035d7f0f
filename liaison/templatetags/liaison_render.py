"""`{% transmissions items %}`: the transmission markup of liaison.rendering, for templates."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from liaison.rendering import TransmissionRenderer, addressees_html

register = template.Library()


@register.simple_tag(takes_context=True)
def transmissions(context, items, *, show_person=False, heading_level=3, on_detail_page=False) -> SafeString:
    """Every transmission of `items` (decorated by liaison.views._decorate), URLs reversed once."""
    renderer = TransmissionRenderer(
        context["request"], show_person=show_person, heading_level=heading_level, on_detail_page=on_detail_page
    )
    return renderer.many(items)


@register.simple_tag
def transmission_addressees(t, *, oob=False) -> SafeString:
    return addressees_html(t, oob=oob)
