"""What every FHIR interaction shares: errors as OperationOutcome (French diagnostics
naming the element), JSON responses, search parameters (strictly: an unknown one is
refused), keyset paging with `next` links, and searchset Bundles.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from common.timezone import PARIS
from interop.fhir.codes import JSON, base_url


class FhirError(Exception):
    """A refusal, answered as an OperationOutcome. `expression` names the element or
    the parameter at fault (FHIRPath, e.g. `Patient.identifier[0].value`)."""

    def __init__(self, status: int, diagnostics: str, *, code: str = "invalid", expression: str | None = None):
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code
        self.expression = expression


def invalid(expression: str, message: str) -> FhirError:
    """400, with the element first in the French diagnostic: `Patient.birthDate : date invalide`."""
    return FhirError(400, f"{expression} : {message}", code="invalid", expression=expression)


def not_found(resource_type: str | None = None) -> FhirError:
    what = f"{resource_type} " if resource_type else ""
    return FhirError(404, f"Ressource {what}introuvable.", code="not-found")


def operation_outcome(
    diagnostics: str, *, code: str = "invalid", severity: str = "error", expression: str | None = None
) -> dict:
    issue = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def response(data: dict, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    result = HttpResponse(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=f"{JSON}; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        result[name] = value
    return result


def error_response(error: FhirError) -> HttpResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="fhir"'} if error.status == 401 else None
    return response(
        operation_outcome(error.diagnostics, code=error.code, expression=error.expression), error.status, headers
    )


def reference(resource_type: str, resource_id, display: str | None = None) -> dict:
    ref = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def instant(value: dt.datetime | None) -> str | None:
    """An aware datetime as FHIR instant/dateTime (UTC offset kept, no microseconds)."""
    if value is None:
        return None
    return timezone.localtime(value, PARIS).replace(microsecond=0).isoformat()


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


# --- Search parameters -------------------------------------------------------------------------

# Parameters every search accepts (besides the resource's own).
COMMON_PARAMETERS = ("_count", "_cursor", "_format")


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system; "": no system
    code: str


@dataclass(frozen=True)
class DateRange:
    """A half-open interval [start, end) from a `date` parameter (None: unbounded)."""

    start: dt.datetime | None
    end: dt.datetime | None


class Query:
    """The query string of a search, checked against the parameters the resource supports."""

    def __init__(self, request: HttpRequest, resource_type: str, supported: Iterable[str]):
        self.resource_type = resource_type
        self.request = request
        allowed = set(supported) | set(COMMON_PARAMETERS)
        for name in request.GET:
            if name not in allowed:
                raise FhirError(
                    400,
                    f"Paramètre de recherche non pris en charge pour {resource_type} : {name}. "
                    f"Paramètres acceptés : {', '.join(sorted(set(supported)))}.",
                    code="not-supported",
                    expression=name,
                )
        fmt = request.GET.get("_format")
        if fmt and fmt not in ("json", JSON, "application/json"):
            raise FhirError(
                406, "_format : seul le format JSON (application/fhir+json) est servi.", code="not-supported"
            )
        self.count = self._count()

    def _count(self) -> int:
        raw = self.request.GET.get("_count")
        if raw is None:
            return settings.FHIR_PAGE_SIZE
        try:
            count = int(raw)
        except ValueError:
            raise invalid("_count", "un nombre entier est attendu.") from None
        if not 1 <= count <= settings.FHIR_MAX_PAGE_SIZE:
            raise invalid("_count", f"entre 1 et {settings.FHIR_MAX_PAGE_SIZE}.")
        return count

    def values(self, name: str) -> list[str]:
        return [value for value in self.request.GET.getlist(name) if value != ""]

    def one(self, name: str) -> str | None:
        values = self.values(name)
        if len(values) > 1:
            raise invalid(name, "ce paramètre ne peut être donné qu'une fois.")
        return values[0] if values else None

    def tokens(self, name: str) -> list[Token] | None:
        """`a|b,c` → [Token(a, b), Token(None, c)] (several values: OR). None when absent."""
        raw = self.values(name)
        if not raw:
            return None
        if len(raw) > 1:
            raise invalid(name, "ce paramètre ne peut être donné qu'une fois (séparez les valeurs par des virgules).")
        result = []
        for part in raw[0].split(","):
            if "|" in part:
                system, code = part.split("|", 1)
                result.append(Token(system, code))
            else:
                result.append(Token(None, part))
        if any(not token.code for token in result):
            raise invalid(name, "valeur manquante après « | ».")
        return result

    def reference_id(self, name: str, resource_type: str) -> str | None:
        """`Patient/12`, an absolute URL ending so, or `12` → "12"."""
        raw = self.one(name)
        if raw is None:
            return None
        tail = raw.rstrip("/").split("/")
        if len(tail) >= 2 and tail[-2] != resource_type:
            raise invalid(name, f"une référence à un(e) {resource_type} est attendue.")
        return tail[-1]

    def dates(self, name: str) -> DateRange | None:
        """Every value of a date parameter, combined (AND): `date=ge2026-01-01&date=lt2026-02-01`."""
        raw = self.values(name)
        if not raw:
            return None
        start = end = None
        for value in raw:
            prefix, text = (value[:2], value[2:]) if value[:2] in ("eq", "ge", "gt", "le", "lt") else ("eq", value)
            low, high = parse_date_value(name, text)
            if prefix in ("eq",):
                start, end = _max(start, low), _min(end, high)
            elif prefix in ("ge",):
                start = _max(start, low)
            elif prefix == "gt":
                start = _max(start, high)
            elif prefix == "lt":
                end = _min(end, low)
            elif prefix == "le":
                end = _min(end, high)
        return DateRange(start, end)


def _max(a, b):
    return b if a is None or (b is not None and b > a) else a


def _min(a, b):
    return b if a is None or (b is not None and b < a) else a


def parse_date_value(name: str, text: str) -> tuple[dt.datetime, dt.datetime]:
    """A FHIR date or dateTime as the interval it covers, in Paris time for dates."""
    try:
        if len(text) == 4:
            first = dt.date(int(text), 1, 1)
            last = dt.date(int(text) + 1, 1, 1)
        elif len(text) == 7:
            year, month = int(text[:4]), int(text[5:7])
            first = dt.date(year, month, 1)
            last = dt.date(year + (month == 12), month % 12 + 1, 1)
        elif len(text) == 10:
            first = dt.date.fromisoformat(text)
            last = first + dt.timedelta(days=1)
        else:
            moment = parse_datetime(text)
            if moment is None:
                raise ValueError(text)
            if timezone.is_naive(moment):
                raise invalid(name, "une date et heure doit porter son fuseau (par exemple +01:00 ou Z).")
            return moment, moment + dt.timedelta(seconds=1)
    except ValueError:
        raise invalid(
            name, f"date invalide « {text} » (AAAA, AAAA-MM, AAAA-MM-JJ ou date et heure ISO 8601)."
        ) from None
    as_instant = lambda d: dt.datetime.combine(d, dt.time(), tzinfo=PARIS)  # noqa: E731
    return as_instant(first), as_instant(last)


def date_q(field: str, dates: DateRange | None) -> Q:
    q = Q()
    if dates is None:
        return q
    if dates.start is not None:
        q &= Q(**{f"{field}__gte": dates.start})
    if dates.end is not None:
        q &= Q(**{f"{field}__lt": dates.end})
    return q


# --- Keyset paging ------------------------------------------------------------------------------


def encode_cursor(values: Sequence) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        if not isinstance(values, list):
            raise ValueError
        return values
    except (ValueError, UnicodeDecodeError):
        raise invalid("_cursor", "curseur de page invalide : suivez le lien « next » de la page précédente.") from None


def _cursor_value(value):
    if not isinstance(value, str):
        return value
    moment = parse_datetime(value)
    if moment is not None:
        return moment
    return dt.date.fromisoformat(value)


@dataclass
class Source:
    """One ordered stream of a search: `queryset` sorted by `key` then pk, newest first
    (or oldest first with `descending=False`)."""

    queryset: QuerySet
    key: str
    descending: bool = True
    parse: Callable[[object], object] = _cursor_value


def _after(source: Source, index: int, cursor: list | None) -> QuerySet:
    queryset = source.queryset
    if cursor is None:
        return queryset
    key_value, cursor_index, pk = source.parse(cursor[0]), cursor[1], cursor[2]
    before, after = ("lt", "gt") if source.descending else ("gt", "lt")
    pk_op = before
    strictly = Q(**{f"{source.key}__{before}": key_value})
    same = Q(**{source.key: key_value})
    if index > cursor_index:
        return queryset.filter(strictly | same)
    if index == cursor_index:
        return queryset.filter(strictly | (same & Q(**{f"pk__{pk_op}": pk})))
    return queryset.filter(strictly)


def page(sources: Sequence[Source], cursor: str | None, count: int) -> tuple[list[tuple[int, object]], str | None]:
    """A page of `count` objects merged from the sources, as (source index, object), in a
    query per source whatever the data size, and the cursor of the next page (None on
    the last one). The caller renders them (after fetching, per page, what they need)."""
    decoded = decode_cursor(cursor)
    if decoded is not None and (len(decoded) != 3 or not isinstance(decoded[1], int)):
        raise invalid("_cursor", "curseur de page invalide.")
    rows = []
    for index, source in enumerate(sources):
        order = f"-{source.key}" if source.descending else source.key
        pk_order = "-pk" if source.descending else "pk"
        try:
            found = list(_after(source, index, decoded).order_by(order, pk_order)[: count + 1])
        except (TypeError, ValueError, ValidationError):
            raise invalid("_cursor", "curseur de page invalide.") from None
        rows.extend((getattr(obj, source.key), index, obj.pk, obj) for obj in found)
    descending = sources[0].descending if sources else True
    if descending:
        rows.sort(key=lambda row: (row[0], -row[1], row[2]), reverse=True)
    else:
        rows.sort(key=lambda row: (row[0], row[1], row[2]))
    taken = rows[:count]
    next_cursor = None
    if len(rows) > count:
        key, index, pk, _obj = taken[-1]
        next_cursor = encode_cursor([key, index, pk])
    return [(index, obj) for _key, index, _pk, obj in taken], next_cursor


def searchset(
    request: HttpRequest, resources: list[dict], next_cursor: str | None, included: Sequence[dict] = ()
) -> dict:
    """A Bundle of type searchset with its `self` and `next` links."""
    params = [(k, v) for k, values in request.GET.lists() if k != "_cursor" for v in values]
    path = f"{settings.SITE_URL}{request.path}"
    every = [(k, v) for k, values in request.GET.lists() for v in values]
    links = [{"relation": "self", "url": f"{path}?{urlencode(every)}".rstrip("?")}]
    if next_cursor:
        links.append({"relation": "next", "url": f"{path}?{urlencode([*params, ('_cursor', next_cursor)])}"})
    entries = [
        {"fullUrl": f"{base_url()}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in resources
    ]
    seen = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in entries}
    for r in included:
        if (r["resourceType"], r["id"]) in seen:
            continue
        seen.add((r["resourceType"], r["id"]))
        entries.append(
            {"fullUrl": f"{base_url()}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "include"}}
        )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": instant(timezone.now()),
        "link": links,
        "entry": entries,
    }


def prune(data):
    """Drop empty values (FHIR forbids empty elements), recursively."""
    if isinstance(data, dict):
        cleaned = {k: prune(v) for k, v in data.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(data, list):
        cleaned = [prune(v) for v in data]
        return [v for v in cleaned if v not in (None, "", [], {})]
    return data
