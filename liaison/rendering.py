"""The transmission's markup, written in Python.

The notebook and the feed show 25 transmissions a page; rendered with a template
include each (3 to 6 `{% url %}`, a dozen filters and a nested include for the
addressees), they were half of the notebook's time and more than its SQL
(bench/README.md, "in-process profile"). Here every URL is reversed once per list and
formatted per item, and every piece of text goes through `format_html` /
its `{}`: nothing a person or an author typed reaches the page unescaped
(tests/liaison/test_rendering.py).

Expects items decorated by `liaison.views._decorate` (labels, lists, my addressee).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.middleware.csrf import get_token
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

_SENTINEL = 987654321


def _concat(parts: Iterable[str]) -> SafeString:
    """Join fragments that are each constant markup written in this module or the output
    of format_html / format_html_join (whose arguments are escaped)."""
    return mark_safe("".join(parts))  # noqa: S308 - constant markup and format_html fragments only


class _Url:
    """`reverse(name, args=[pk])` for many pks: reversed once, then formatted."""

    def __init__(self, name: str) -> None:
        self.head, self.tail = reverse(name, args=[_SENTINEL]).split(str(_SENTINEL))

    def __call__(self, pk: int) -> str:
        return f"{self.head}{int(pk)}{self.tail}"


class TransmissionRenderer:
    """Renders transmissions for one request (URLs, CSRF token, current path read once)."""

    def __init__(self, request, *, show_person: bool = False, heading_level: int = 3, on_detail_page: bool = False):
        self.request = request
        self.show_person = show_person
        self.heading_level = int(heading_level)
        self.on_detail_page = on_detail_page
        self.notebook_url = _Url("liaison:notebook")
        self.detail_url = _Url("liaison:transmission")
        self.attachment_url = _Url("liaison:attachment")
        self.thumbnail_url = _Url("liaison:thumbnail")
        self.acknowledge_url = _Url("liaison:acknowledge")
        self._csrf: str | None = None

    @property
    def csrf_input(self) -> SafeString:
        if self._csrf is None:
            self._csrf = get_token(self.request)
        return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', self._csrf)

    def many(self, items: Iterable) -> SafeString:
        return _concat(self.one(t) for t in items)

    def one(self, t) -> SafeString:
        classes = "transmission"
        if t.is_important:
            classes += " transmission--important"
        if t.is_withdrawn:
            classes += " transmission--withdrawn"
        parts = [
            format_html('<article class="{}" id="t{}" aria-labelledby="t{}-title">', classes, t.pk, t.pk),
            '<header class="transmission__header">',
            self._title(t),
            self._meta(t),
            self._badges(t),
            "</header>",
        ]
        if t.corrects_id:
            parts.append(
                format_html(
                    '<p class="muted">Corrige la <a href="{}">transmission du {}</a>.</p>',
                    self.detail_url(t.corrects_id),
                    t.corrects_label,
                )
            )
        if t.correction_list:
            links = format_html_join(
                ", ",
                '<a href="{}">transmission du {}</a>',
                ((self.detail_url(pk), label) for pk, label in t.correction_list),
            )
            parts.append(format_html("<p>Corrigée par : {}</p>", links))
        parts.append(self._body(t))
        if t.attachment_list:
            parts.append(self._attachments(t))
        if t.addressee_list:
            parts.append(addressees_html(t))
        parts.append(self._actions(t))
        parts.append("</article>")
        return _concat(parts)

    def _title(self, t) -> SafeString:
        person = ""
        if self.show_person:
            person = format_html('<a href="{}">{}</a> — ', self.notebook_url(t.person_id), t.person.display_name)
        target = format_html(" — cible : {}", t.target) if t.kind == "targeted" else ""
        return format_html(
            '<h{} class="transmission__title" id="t{}-title">{}{}{}</h{}>',
            self.heading_level,
            t.pk,
            person,
            t.get_category_display(),
            target,
            self.heading_level,
        )

    def _meta(self, t) -> SafeString:
        structure = format_html(" ({})", t.author_structure.name) if t.author_structure_id else ""
        created = format_html('<span class="muted">, saisie le {}</span>', t.created_label) if t.created_label else ""
        return format_html(
            '<p class="transmission__meta"><time datetime="{}">{}</time> — {}{}{}</p>',
            t.observed_iso,
            t.observed_label,
            t.author,
            structure,
            created,
        )

    def _badges(self, t) -> SafeString:
        badges = []
        if t.is_important:
            badges.append('<span class="badge badge--warning">Important</span>')
        if t.remarkable_event:
            badges.append(
                format_html(
                    '<span class="badge badge--warning">Évènement : {}</span>', t.get_remarkable_event_display()
                )
            )
        badges.append(
            '<span class="badge">Interne à la structure</span>'
            if t.scope == "internal"
            else '<span class="badge">Partagée</span>'
        )
        if t.is_withdrawn:
            badges.append('<span class="badge">Retirée par son auteur</span>')
        if t.corrects_id:
            badges.append('<span class="badge">Correction</span>')
        if t.correction_list:
            badges.append('<span class="badge badge--warning">Corrigée</span>')
        if t.edited_at:
            badges.append('<span class="badge">Modifiée</span>')
        if getattr(t, "is_read", None) is False:
            badges.append('<span class="badge badge--success">Nouvelle</span>')
        return _concat(['<p class="transmission__badges">', " ".join(badges), "</p>"])

    def _body(self, t) -> SafeString:
        parts = ['<div class="transmission__body">']
        if t.text:
            parts.append(format_html("<p>{}</p>", linebreaksbr(t.text)))
        if t.kind == "targeted":
            parts.append('<dl class="definition-list">')
            for label, value in (("Données", t.data), ("Actions", t.actions), ("Résultats", t.results)):
                if value:
                    parts.append(format_html("<dt>{}</dt><dd>{}</dd>", label, linebreaksbr(value)))
            parts.append("</dl>")
        parts.append("</div>")
        return _concat(parts)

    def _attachments(self, t) -> SafeString:
        items = []
        for a in t.attachment_list:
            if a.is_image:
                items.append(
                    format_html(
                        '<li><a href="{}"><img src="{}" alt="Photo jointe : {}" width="160" loading="lazy"></a></li>',
                        self.attachment_url(a.pk),
                        self.thumbnail_url(a.pk),
                        a.original_name,
                    )
                )
            else:
                items.append(
                    format_html('<li><a href="{}">{} (PDF)</a></li>', self.attachment_url(a.pk), a.original_name)
                )
        return _concat(['<ul class="attachments">', *items, "</ul>"])

    def _actions(self, t) -> SafeString:
        parts = ['<div class="transmission__actions">']
        if t.my_addressee and not t.my_addressee.acknowledged_at:
            url = self.acknowledge_url(t.pk)
            parts.append(
                format_html(
                    '<form class="inline-form" method="post" action="{}" hx-post="{}" hx-swap="outerHTML">{}'
                    '<input type="hidden" name="next" value="{}">'
                    '<button class="button" type="submit">Accuser réception</button></form>',
                    url,
                    url,
                    self.csrf_input,
                    self.request.get_full_path(),
                )
            )
        if not self.on_detail_page:
            what = ", modifier ou retirer" if t.can_edit else " et corriger"
            parts.append(
                format_html(
                    '<a href="{}">Détail{}<span class="visually-hidden"> : transmission du {}</span></a>',
                    self.detail_url(t.pk),
                    what,
                    t.observed_label,
                )
            )
        parts.append("</div>")
        return _concat(parts)


def addressees_html(t, *, oob: bool = False) -> SafeString:
    """The addressees and the receipt counter (swapped out of band after an acknowledgement)."""
    count = len(t.addressee_list)
    receipts = format_html(", accusés de réception : {} sur {}", t.receipt_count, count) if t.requests_receipt else ""
    rows = []
    for a in t.addressee_list:
        if a.acknowledged_at:
            state = format_html("accusé de réception le {}", f"{timezone.localtime(a.acknowledged_at):%d/%m/%Y %H:%M}")
        elif t.requests_receipt:
            state = "accusé de réception attendu"
        else:
            state = "alerté"
        rows.append(format_html("<li>{} : {}</li>", a.user, state))
    return format_html(
        '<details class="details" id="destinataires-{}"{}><summary>Destinataires ({}){}</summary><ul>{}</ul></details>',
        t.pk,
        _concat([' hx-swap-oob="true"']) if oob else "",
        count,
        receipts,
        _concat(rows),
    )
