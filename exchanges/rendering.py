"""A page of messages' markup, written in Python.

The conversation page shows 30 messages; rendered with an include each of
`exchanges/partials/message.html` (up to 5 `{% url %}`, a dozen tests and filters), they
were most of the page's template time (bench/README.md, "A long conversation"). Here
every URL is reversed once per page and formatted per message, and every piece of text
goes through `format_html` / its `{}`: nothing an author typed reaches the page
unescaped. The markup is the template's, which stays the one message's reference (the
live updates, the user portal, a post's answer render it): tests/exchanges/
test_rendering.py asserts both give the same page, hostile text included.

Expects messages decorated by `exchanges.views.shared.decorate_messages`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.middleware.csrf import get_token
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

_SENTINEL = 987654321


def _concat(parts: Iterable[str]) -> SafeString:
    """Join fragments that are each constant markup written in this module or the output
    of format_html (whose arguments are escaped)."""
    return mark_safe("".join(parts))  # noqa: S308 - constant markup and format_html fragments only


class _Url:
    """`reverse(name, args=[pk])` for many pks: reversed once, then formatted."""

    def __init__(self, name: str) -> None:
        self.head, self.tail = reverse(name, args=[_SENTINEL]).split(str(_SENTINEL))

    def __call__(self, pk: int) -> str:
        return f"{self.head}{int(pk)}{self.tail}"


class MessageRenderer:
    """Renders the messages of one page for one request (URLs and CSRF token read once).
    `can_file`: the reader may turn a message into a liaison transmission."""

    def __init__(self, request, *, can_file: bool = False) -> None:
        self.request = request
        self.can_file = bool(can_file)
        self.attachment_url = _Url("exchanges:attachment")
        self.thumbnail_url = _Url("exchanges:thumbnail")
        self.transmission_url = _Url("liaison:transmission")
        self.edit_url = _Url("exchanges:edit")
        self.withdraw_url = _Url("exchanges:withdraw")
        self.file_url = _Url("exchanges:file")
        self._csrf: str | None = None

    @property
    def csrf_input(self) -> SafeString:
        if self._csrf is None:
            self._csrf = get_token(self.request)
        return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', self._csrf)

    def many(self, items: Iterable) -> SafeString:
        return _concat(f"\n{self.one(m)}\n" for m in items)

    def one(self, m) -> SafeString:
        classes = "exchange-message"
        if m.is_mine:
            classes += " exchange-message--mine"
        if m.is_withdrawn:
            classes += " exchange-message--withdrawn"
        edited = ", modifié" if m.edited_at and not m.is_withdrawn else ""
        parts: list[str] = [
            format_html(
                '<article class="{}" id="m{}" data-message-id="{}" data-author="{}" aria-labelledby="m{}-meta">\n'
                '<p class="exchange-message__meta" id="m{}-meta">\n<strong>{}</strong>\n'
                '<span class="muted">— <time datetime="{}">{}</time>{}</span>\n</p>\n',
                classes,
                m.pk,
                m.pk,
                m.author_name,
                m.pk,
                m.pk,
                m.author_name,
                m.created_iso,
                m.created_label,
                edited,
            )
        ]
        if m.is_withdrawn:
            parts.append('<p class="exchange-message__body"><em>Message retiré par son auteur.</em></p>\n')
        else:
            if m.body:
                parts.append(format_html('<p class="exchange-message__body">{}</p>\n', linebreaksbr(m.body)))
            if m.attachment_list:
                parts.append(self._attachments(m))
        if m.transmission_id:
            parts.append(
                format_html(
                    '<p class="exchange-message__filed"><span class="badge badge--success">Versé au cahier de '
                    'liaison</span> <a href="{}">Voir la transmission<span class="visually-hidden"> du message du '
                    "{}</span></a></p>\n",
                    self.transmission_url(m.transmission_id),
                    m.created_label,
                )
            )
        if m.seen_by_names:
            parts.append(format_html('<p class="exchange-message__seen muted">Vu par {}</p>\n', m.seen_by_names))
        may_file = self.can_file and not m.is_withdrawn and not m.transmission_id
        if m.can_edit or may_file:
            parts.append(self._actions(m, may_file))
        parts.append("</article>")
        return _concat(parts)

    def _attachments(self, m) -> SafeString:
        items = []
        for a in m.attachment_list:
            if a.is_image:
                items.append(
                    format_html(
                        '<li><a href="{}"><img src="{}" alt="Photo jointe : {}" width="160" loading="lazy"></a></li>\n',
                        self.attachment_url(a.pk),
                        self.thumbnail_url(a.pk),
                        a.original_name,
                    )
                )
            else:
                items.append(
                    format_html('<li><a href="{}">{} (PDF)</a></li>\n', self.attachment_url(a.pk), a.original_name)
                )
        return _concat(['<ul class="attachments">\n', *items, "</ul>\n"])

    def _actions(self, m, may_file: bool) -> SafeString:
        parts: list[str] = ['<div class="exchange-message__actions">\n']
        if m.can_edit:
            withdraw = self.withdraw_url(m.pk)
            parts.append(
                format_html(
                    '<a href="{}">Modifier<span class="visually-hidden"> le message du {}</span></a>\n'
                    '<form class="inline-form" method="post" action="{}" hx-post="{}" hx-target="#m{}" '
                    'hx-swap="outerHTML">{}\n<button class="button button--secondary" type="submit">Retirer'
                    '<span class="visually-hidden"> le message du {}</span></button>\n</form>\n',
                    self.edit_url(m.pk),
                    m.created_label,
                    withdraw,
                    withdraw,
                    m.pk,
                    self.csrf_input,
                    m.created_label,
                )
            )
        if may_file:
            parts.append(
                format_html(
                    '<a href="{}">Verser au cahier de liaison<span class="visually-hidden"> : message du {}'
                    "</span></a>\n",
                    self.file_url(m.pk),
                    m.created_label,
                )
            )
        parts.append("</div>\n")
        return _concat(parts)
