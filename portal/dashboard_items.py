"""The first items of the professional's day, read as a few fields and written in Python.

Each section reads at most `COUNT_CAP` rows of the fields below (`common.dashboard.section`,
no model instance) and shows its first five. Rendered with a template include each (an
`{% if %}` chain over the eleven sections, a `{% url %}` and a few filters per item), the
55 items of a full day cost a fifth of the page (bench/README.md, "/pro/"). Here every URL
is reversed once per page and formatted per item, and every piece of text goes through
`format_html` / its `{}`: nothing a person or an author typed reaches the page unescaped
(tests/portal/test_pro_dashboard.py, `test_it_escapes_what_the_items_show`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.template.defaultfilters import truncatewords
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from agenda.models import EventStatus
from coordination.models import CircleRole
from documents.models import DocumentStatus
from liaison.models import RemarkableEvent, TransmissionKind

_SENTINEL = 987654321


class _Url:
    """`reverse(name, args=[pk])` for many pks: reversed once, then formatted."""

    def __init__(self, name: str) -> None:
        self.head, self.tail = reverse(name, args=[_SENTINEL]).split(str(_SENTINEL))

    def __call__(self, pk: int) -> str:
        return f"{self.head}{int(pk)}{self.tail}"


def _person(prefix: str) -> tuple[str, ...]:
    """The fields of a person's id, account and name (`Person.display_name`)."""
    return tuple(
        f"{prefix}{name}"
        for name in ("", "__user", "__first_name", "__birth_first_names", "__used_name", "__birth_name")
    )


def _user(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}__{name}" for name in ("first_name", "last_name", "email"))


# The fields each section reads, and where its items' person is (for the access log).
PERSON = {
    "receipts": "person",
    "alerts": "person",
    "proposals": "person",
    "documents": "person",
    "sign": "plan__person",
    "reviews_soon": "plan__person",
    "reviews_overdue": "plan__person",
    "join_requests": "person",
    "delegations": "person",
}
_TRANSMISSION = ("pk", "remarkable_event", *_user("author"), "created_at", "kind", "target", "data", "text")
_MEETING = ("pk", "title", "starts_at", "hold_expires_at")
_REVIEW = ("pk", "review_due_on")
FIELDS: dict[str, tuple[str, ...]] = {
    "receipts": _TRANSMISSION,
    "alerts": _TRANSMISSION,
    "meetings": _MEETING,
    "holds": _MEETING,
    "proposals": ("pk", "title", "starts_at", "answer_deadline"),
    "documents": ("pk", "title", "status", *_user("author"), "created_at"),
    "sign": ("pk", "number", "submitted_at"),
    "reviews_soon": _REVIEW,
    "reviews_overdue": _REVIEW,
    "join_requests": (*_user("professional__user"), "role", "created_at"),
    "delegations": (*_user("delegator__user"), *_user("delegate__user"), "starts_at", "ends_at"),
}
for _key, _prefix in PERSON.items():
    FIELDS[_key] = _person(_prefix) + FIELDS[_key]

_EVENTS = dict(RemarkableEvent.choices)
_ROLES = dict(CircleRole.choices)


def _date(value, fmt: str = "%d/%m/%Y") -> str:
    """As the template's `date` filter: an aware datetime in the current time zone."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value)
    return value.strftime(fmt)


def _at(value) -> str:
    return _date(value, "%d/%m/%Y à %H:%M")


def _full_name(item: dict, prefix: str) -> str:
    """`User.get_full_name` ("" when there is no account)."""
    return f"{item[prefix + '__first_name'] or ''} {item[prefix + '__last_name'] or ''}".strip()


def _name_or_email(item: dict, prefix: str) -> str:
    return _full_name(item, prefix) or item[prefix + "__email"]


def _display_name(item: dict, prefix: str) -> str:
    """`Person.display_name`."""
    first = item[prefix + "__first_name"] or item[prefix + "__birth_first_names"].split(" ")[0]
    return f"{first} {item[prefix + '__used_name'] or item[prefix + '__birth_name']}".strip()


def _words(text: str) -> str:
    return truncatewords(text, 12)


class ItemRenderer:
    """Writes the items of the day's sections, the URLs reversed once for the page."""

    def __init__(self) -> None:
        self.transmission = _Url("liaison:transmission")
        self.meeting = _Url("agenda:booking_meeting")
        self.document = _Url("documents:detail")
        self.version = _Url("ppa:version")
        self.plan = _Url("ppa:plan")
        self.person = _Url("coordination:person")
        self.circle = _Url("coordination:circle")
        self.event = _Url("agenda:event")
        self._by_key: dict[str, Callable[[dict], SafeString]] = {
            "receipts": self._receipt,
            "alerts": self._alert,
            "meetings": self._meeting,
            "holds": self._meeting,
            "proposals": self._proposal,
            "documents": self._document,
            "sign": self._sign,
            "reviews_soon": self._review,
            "reviews_overdue": self._review,
            "join_requests": self._join_request,
            "delegations": self._delegation,
        }

    def many(self, key: str, items: Iterable[dict]) -> SafeString:
        one = self._by_key[key]
        # Each fragment is format_html's output (its arguments escaped) in constant markup.
        return mark_safe("".join(f"<li>{one(item)}</li>" for item in items))  # noqa: S308

    def agenda(self, occurrences: list, empty: str) -> SafeString:
        """The day's occurrences (`agenda.selectors.my_days`, the event and its person
        read with it), or one line saying there is nothing."""
        if not occurrences:
            return format_html('<p class="muted">{}</p>', empty)
        lines = []
        for o in occurrences:
            event = o.event
            when = (
                "Toute la journée" if event.is_all_day else f"{_date(o.starts_at, '%H:%M')}–{_date(o.ends_at, '%H:%M')}"
            )
            lines.append(
                format_html(
                    '<li>{} <a href="{}">{}</a>{}{}</li>',
                    when,
                    self.event(event.pk),
                    event.title,
                    format_html(" — {}", event.person.display_name) if event.person_id else "",
                    mark_safe(' <span class="badge">Proposé</span>') if event.status == EventStatus.PROPOSED else "",
                )
            )
        # Each line is format_html's output (its arguments escaped) in constant markup.
        return mark_safe('<ul class="dashboard__items">' + "".join(lines) + "</ul>")  # noqa: S308

    def _transmission(self, item: dict, *, alert: bool) -> SafeString:
        if item["remarkable_event"]:
            badge = format_html(
                '<span class="badge badge--warning">{}</span> ',
                _EVENTS.get(item["remarkable_event"], item["remarkable_event"]),
            )
        elif alert:
            badge = mark_safe('<span class="badge">Alerte</span> ')
        else:
            badge = mark_safe("")
        if item["kind"] == TransmissionKind.TARGETED:
            summary = format_html("{} — {}", item["target"], _words(item["data"]))
        else:
            summary = format_html("{}", _words(item["text"]))
        return format_html(
            '<a href="{}">{}</a> — {}{}, le {}{} : <span class="muted">{}</span>',
            self.transmission(item["pk"]),
            _display_name(item, "person"),
            badge,
            _name_or_email(item, "author"),
            _date(item["created_at"], "%d/%m/%Y %H:%M"),
            "" if alert else " (accusé de réception demandé)",
            summary,
        )

    def _receipt(self, item: dict) -> SafeString:
        return self._transmission(item, alert=False)

    def _alert(self, item: dict) -> SafeString:
        return self._transmission(item, alert=True)

    def _meeting(self, item: dict) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>, le {} — créneau réservé jusqu\'au {}',
            self.meeting(item["pk"]),
            item["title"],
            _at(item["starts_at"]),
            _at(item["hold_expires_at"]),
        )

    def _proposal(self, item: dict) -> SafeString:
        return format_html(
            '<a href="{}">{}</a> pour {}, le {} — réponse attendue avant le {}',
            self.meeting(item["pk"]),
            item["title"],
            _display_name(item, "person"),
            _at(item["starts_at"]),
            _at(item["answer_deadline"]),
        )

    def _document(self, item: dict) -> SafeString:
        if item["status"] == DocumentStatus.DRAFT:
            origin = format_html("{}", "envoyé par le logiciel de la structure")
        else:
            origin = format_html("déposé par {}", _name_or_email(item, "author"))
        return format_html(
            '<a href="{}">{}</a> pour {} — {}, le {}',
            self.document(item["pk"]),
            item["title"],
            _display_name(item, "person"),
            origin,
            _date(item["created_at"]),
        )

    def _sign(self, item: dict) -> SafeString:
        return format_html(
            '<a href="{}">Projet de {}</a> — version {}, soumise le {}',
            self.version(item["pk"]),
            _display_name(item, "plan__person"),
            item["number"],
            _date(item["submitted_at"]),
        )

    def _review(self, item: dict) -> SafeString:
        return format_html(
            '<a href="{}">Projet de {}</a> — révision prévue le {}',
            self.plan(item["plan__person"]),
            _display_name(item, "plan__person"),
            _date(item["review_due_on"]),
        )

    def _join_request(self, item: dict) -> SafeString:
        return format_html(
            '<a href="{}">{}</a> — {} demande à entrer dans le cercle ({}), le {}',
            self.person(item["person"]),
            _display_name(item, "person"),
            _full_name(item, "professional__user"),
            _ROLES.get(item["role"], item["role"]),
            _date(item["created_at"]),
        )

    def _delegation(self, item: dict) -> SafeString:
        return format_html(
            '<a href="{}">{}</a> — {} délègue à {}, du {} au {}',
            self.circle(item["person"]),
            _display_name(item, "person"),
            _full_name(item, "delegator__user"),
            _full_name(item, "delegate__user"),
            _date(item["starts_at"]),
            _date(item["ends_at"]),
        )
