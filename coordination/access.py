"""The one access gate.

Every read or write of a person's data — page, API call, export, feed, task — asks
`require(user, person, category, action)`. It decides from:

1. the materialised access matrix (django-guardian permissions on `Person`, direct
   foreign-key table `PersonUserObjectPermission`), kept in step by `services`;
2. active delegations, capped by the delegator's current right;
3. an active break-the-glass window (read only).

and writes an `AccessLog` row for reads as well as writes. Someone outside the circle
gets `Http404` (the person's existence is not disclosed); a member without the right
gets `AccessDenied` (403) with a plain reason.

Querysets of "persons I may see" are built with subqueries, never id lists.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone

from common.lookups import Ids
from common.request_context import current_request_context
from coordination import matrix, rules
from coordination.models import (
    ACCESS_LOG,
    ACTION_LEVEL,
    AccessLog,
    AccessVia,
    BreakGlassAccess,
    CarerLink,
    Category,
    CircleMember,
    Delegation,
    DelegationGrant,
    DelegationStatus,
    Level,
    Person,
    PersonUserObjectPermission,
    Professional,
    Structure,
    permission_codename,
)

ACTIONS = ("read", "write")
CATEGORIES = tuple(Category.values)

_VERB: dict[str, str] = {"read": "consulter", "write": "modifier"}
_WHAT: dict[str, str] = {
    Category.RECORD: "le dossier",
    Category.AGENDA: "l'agenda",
    Category.LIAISON: "le cahier de liaison",
    Category.PPA: "le projet personnalisé",
    Category.DOCUMENTS: "les documents",
    Category.CIRCLE: "le cercle et les droits",
    Category.EVALUATION: "les évaluations",
    Category.EXCHANGES: "les échanges",
}


class AccessDenied(PermissionDenied):
    """403 for a member of the circle who lacks the right. The message is safe to show."""

    is_public = True


@dataclass(frozen=True)
class Access:
    """A granted access: how it was granted (for the log and for the page)."""

    person: Person
    category: str
    action: str
    via: str
    # With require(..., probe_write=True): whether the user may also write (same query).
    can_write: bool | None = None
    # Whether the user is the delegate of a delegation in force on this person (the
    # gate's `_delegate_known`, same query); None when the gate did not read it.
    delegate_here: bool | None = None


def _validate(category: str, action: str) -> None:
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")


def _perm_exists(user_ref, person_ref, category: str, action: str) -> Exists:
    return Exists(
        PersonUserObjectPermission.objects.filter(
            user=user_ref,
            content_object=person_ref,
            permission__codename=permission_codename(category, action),
        )
    )


def _delegation_exists(user, person_ref, category: str, action: str, now) -> Exists:
    """An active delegation to `user` covering the level, while the delegator still holds it."""
    level = Level.WRITE if action == "write" else Level.READ
    return Exists(
        DelegationGrant.objects.filter(
            rules.delegation_in_force_q("delegation__", now),
            delegation__person=person_ref,
            delegation__delegate__user=user,
            category=category,
            level__gte=level,
        ).filter(
            # The delegator must still hold the right (on this same person).
            _perm_exists(OuterRef("delegation__delegator__user"), OuterRef("delegation__person"), category, action)
        )
    )


# The gate's queries are written as SQL, once per process. Same rules as the helpers
# above (which the list querysets use), but measured on PostgreSQL with the ORM
# version: building that one query with its nested Exists took 8 ms of Python (14 ms
# with the write probe) and planning it 5–7 ms, against 0.3 ms to run it. Now the common
# query holds only cheap single-table tests (about 1.5 ms to plan) and the delegation
# rules, whose joins cost most of the planning, run as a second query only for a user
# who holds an active delegation on the person. Table and column names come from _meta.


def _names() -> dict[str, str]:
    quote = connection.ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    def column(model, field: str) -> str:
        return quote(model._meta.get_field(field).column)

    return {
        "person": table(Person),
        "person_id": column(Person, "id"),
        "member": table(CircleMember),
        "member_id": column(CircleMember, "id"),
        "member_person": column(CircleMember, "person"),
        "member_user": column(CircleMember, "user"),
        "member_ended": column(CircleMember, "ended_at"),
        "pro": table(Professional),
        "pro_id": column(Professional, "id"),
        "pro_user": column(Professional, "user"),
        "deleg": table(Delegation),
        "deleg_id": column(Delegation, "id"),
        "deleg_person": column(Delegation, "person"),
        "deleg_delegate": column(Delegation, "delegate"),
        "deleg_delegator": column(Delegation, "delegator"),
        "deleg_status": column(Delegation, "status"),
        "deleg_starts": column(Delegation, "starts_at"),
        "deleg_ends": column(Delegation, "ends_at"),
        "grant": table(DelegationGrant),
        "grant_deleg": column(DelegationGrant, "delegation"),
        "grant_category": column(DelegationGrant, "category"),
        "grant_level": column(DelegationGrant, "level"),
        "glass": table(BreakGlassAccess),
        "glass_user": column(BreakGlassAccess, "user"),
        "glass_person": column(BreakGlassAccess, "person"),
        "glass_expires": column(BreakGlassAccess, "expires_at"),
        "carer": table(CarerLink),
        "carer_person": column(CarerLink, "person"),
        "carer_user": column(CarerLink, "user"),
        "carer_legal": column(CarerLink, "is_legal_representative"),
        "carer_ended": column(CarerLink, "ended_on"),
        "uop": table(PersonUserObjectPermission),
        "uop_user": column(PersonUserObjectPermission, "user"),
        "uop_person": column(PersonUserObjectPermission, "content_object"),
        "uop_perm": column(PersonUserObjectPermission, "permission"),
        "perm": table(Permission),
        "perm_id": column(Permission, "id"),
        "perm_codename": column(Permission, "codename"),
        "perm_type": column(Permission, "content_type"),
    }


def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`%(name)s` placeholders to positional ones, and the names in order."""
    return re.sub(r"%\((\w+)\)s", "%s", sql), tuple(re.findall(r"%\((\w+)\)s", sql))


def _perm_sql(n: dict[str, str], user: str, person: str, codename: str) -> str:
    """`user` holds the permission `codename` on `person` (the access matrix). The
    permission's id as a scalar subquery ((content type, codename) is unique): a join
    would cost more to plan than the whole test takes to run."""
    return (
        f"EXISTS (SELECT 1 FROM {n['uop']} op WHERE op.{n['uop_user']} = {user}"
        f" AND op.{n['uop_person']} = {person} AND op.{n['uop_perm']} = (SELECT ap.{n['perm_id']}"
        f" FROM {n['perm']} ap WHERE ap.{n['perm_type']} = %(person_type)s"
        f" AND ap.{n['perm_codename']} = %({codename})s))"
    )


def _active_delegation_sql(n: dict[str, str], person: str) -> str:
    """FROM/WHERE tail: delegations `d` on `person` to the user, active now, whose
    delegator (`dm`) is still in the circle."""
    return (
        f"JOIN {n['pro']} pr ON pr.{n['pro_id']} = d.{n['deleg_delegate']}"
        f" JOIN {n['member']} dm ON dm.{n['member_id']} = d.{n['deleg_delegator']}"
        f" WHERE d.{n['deleg_person']} = {person} AND pr.{n['pro_user']} = %(user)s"
        f" AND d.{n['deleg_status']} = %(active)s AND d.{n['deleg_starts']} <= %(now)s"
        f" AND d.{n['deleg_ends']} > %(now)s AND dm.{n['member_ended']} IS NULL"
    )


def _standing_columns(n: dict[str, str], person: str, perms: dict[str, str]) -> list[str]:
    """How the user stands with the person (member, delegate, break-the-glass, legal
    representative) and, for each `perms` alias, whether they hold the permission whose
    codename is the parameter it names."""
    return [
        f"EXISTS (SELECT 1 FROM {n['member']} m WHERE m.{n['member_person']} = {person}"
        f" AND m.{n['member_user']} = %(user)s AND m.{n['member_ended']} IS NULL) AS _member",
        *(f"{_perm_sql(n, '%(user)s', person, codename)} AS {alias}" for alias, codename in perms.items()),
        f"EXISTS (SELECT 1 FROM {n['deleg']} d {_active_delegation_sql(n, person)}) AS _delegate_known",
        f"EXISTS (SELECT 1 FROM {n['glass']} bg WHERE bg.{n['glass_user']} = %(user)s"
        f" AND bg.{n['glass_person']} = {person} AND bg.{n['glass_expires']} > %(now)s) AS _glass",
        f"EXISTS (SELECT 1 FROM {n['carer']} c WHERE c.{n['carer_person']} = {person}"
        f" AND c.{n['carer_user']} = %(user)s AND c.{n['carer_legal']} = %(true)s"
        f" AND c.{n['carer_ended']} IS NULL) AS _representative",
    ]


@functools.cache
def _decide_sql(vendor: str, probe_write: bool) -> tuple[str, tuple[str, ...]]:
    """The common query: the person row and how the user stands with them."""
    n = _names()
    person = "p." + n["person_id"]
    perms = {"_perm": "codename"}
    if probe_write:
        perms["_may_write"] = "write_codename"
    columns = _standing_columns(n, person, perms)
    return _positional(f"SELECT p.*, {', '.join(columns)} FROM {n['person']} p WHERE {person} = %(person)s")


@functools.cache
def _decide_many_sql(vendor: str, count: int) -> tuple[str, tuple[str, ...]]:
    """The common query for `count` categories at once: `_perm0`… say whether the user
    holds the permission of each (parameters `codename0`…)."""
    n = _names()
    person = "p." + n["person_id"]
    columns = _standing_columns(n, person, {f"_perm{i}": f"codename{i}" for i in range(count)})
    return _positional(f"SELECT p.*, {', '.join(columns)} FROM {n['person']} p WHERE {person} = %(person)s")


@functools.cache
def _delegation_sql(vendor: str) -> tuple[str, tuple[str, ...]]:
    """For a delegate only: (delegated for the action, delegated for writing). An active
    delegation covering the level, while the delegator still holds the right."""
    n = _names()

    def delegated(codename: str, level: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM {n['grant']} g JOIN {n['deleg']} d ON d.{n['deleg_id']} = g.{n['grant_deleg']}"
            f" {_active_delegation_sql(n, '%(person)s')} AND g.{n['grant_category']} = %(category)s"
            f" AND g.{n['grant_level']} >= %({level})s"
            f" AND {_perm_sql(n, 'dm.' + n['member_user'], 'd.' + n['deleg_person'], codename)})"
        )

    return _positional(f"SELECT {delegated('codename', 'level')}, {delegated('write_codename', 'write_level')}")


@dataclass(frozen=True)
class _Decision:
    """What the gate's queries say of a user and a person, for one category and action."""

    person: Person | None  # the row (None: no such person)
    known: bool  # in the circle, delegate or break-the-glass: a refusal is a 403, not a 404
    via: str | None  # how the access is granted (an AccessVia), None when refused
    may_write: bool = False  # with probe_write: whether the user may also write
    delegate_here: bool | None = None  # the `_delegate_known` column (None: not read)


def _values(user, person_id: int, category: str, action: str) -> dict:
    return {
        "user": user.pk,
        "person": person_id,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
        "active": DelegationStatus.ACTIVE.value,
        "category": category,
        "true": True,
        "person_type": ContentType.objects.get_for_model(Person).pk,
        "codename": permission_codename(category, action),
        "level": int(ACTION_LEVEL[action]),
        "write_codename": permission_codename(category, "write"),
        "write_level": int(Level.WRITE),
    }


def _conclude(
    user, row, values: dict, action: str, perm: bool, may_write: bool, probe_write: bool = False
) -> _Decision:
    """The decision for one category from the common query's row (`perm`, `may_write`
    its columns for that category); the delegation rules asked only for a delegate."""
    # The raw query's extra columns, as plain booleans (SQLite answers 0/1).
    member, delegate_known, glass, representative = (
        bool(getattr(row, name)) for name in ("_member", "_delegate_known", "_glass", "_representative")
    )
    delegated = False
    if delegate_known and (not perm or (probe_write and not may_write)):
        sql, order = _delegation_sql(connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(sql, [values[name] for name in order])
            delegated, may_write_delegated = (bool(value) for value in cursor.fetchone())
        may_write = may_write or (probe_write and may_write_delegated)
    known = member or delegate_known or glass
    if perm:
        if row.user_id == user.pk:
            via = AccessVia.SELF
        elif representative:
            via = AccessVia.REPRESENTATIVE
        else:
            via = AccessVia.NORMAL
        return _Decision(person=row, known=True, via=via, may_write=may_write, delegate_here=delegate_known)
    if delegated:
        return _Decision(
            person=row, known=True, via=AccessVia.DELEGATION, may_write=may_write, delegate_here=delegate_known
        )
    if glass and action == "read":
        return _Decision(
            person=row, known=True, via=AccessVia.BREAK_GLASS, may_write=False, delegate_here=delegate_known
        )
    return _Decision(person=row, known=known, via=None, delegate_here=delegate_known)


def _decide(user, person_id: int, category: str, action: str, probe_write: bool = False) -> _Decision:
    values = _values(user, person_id, category, action)
    sql, order = _decide_sql(connection.vendor, probe_write)
    rows = list(Person.objects.raw(sql, [values[name] for name in order]))
    if not rows:
        return _Decision(person=None, known=False, via=None)
    row = rows[0]
    # The raw query's extra columns, as plain booleans (SQLite answers 0/1).
    perm, may_write = (bool(getattr(row, name, False)) for name in ("_perm", "_may_write"))
    return _conclude(user, row, values, action, perm, may_write, probe_write)


def _decide_many(user, person_id: int, categories: tuple[str, ...], action: str) -> dict[str, _Decision]:
    """`_decide` for several categories with one query (and the delegation rules, for a
    delegate only, per category as in `_decide`)."""
    values = _values(user, person_id, categories[0], action)
    values.update({f"codename{i}": permission_codename(c, action) for i, c in enumerate(categories)})
    sql, order = _decide_many_sql(connection.vendor, len(categories))
    rows = list(Person.objects.raw(sql, [values[name] for name in order]))
    if not rows:
        return dict.fromkeys(categories, _Decision(person=None, known=False, via=None))
    row = rows[0]
    return {
        category: _conclude(
            user,
            row,
            {
                **values,
                "category": category,
                "codename": values[f"codename{i}"],
                "write_codename": permission_codename(category, "write"),
            },
            action,
            bool(getattr(row, f"_perm{i}")),
            False,
        )
        for i, category in enumerate(categories)
    }


def check(user, person: Person | int, category: str, action: str = "read") -> str | None:
    """How `user` may do `action` on `category` of `person` (an AccessVia), or None. No log."""
    _validate(category, action)
    if not getattr(user, "is_authenticated", False):
        return None
    person_id = person.pk if isinstance(person, Person) else person
    decision = _decide(user, person_id, category, action)
    if action == "write" and decision.person is not None and decision.person.archived_at is not None:
        return None
    return decision.via


# --- Scoped accesses declared by the blocks ---------------------------------------------------

# provider(user, person_id, category, key) -> whether the scope named by `key` lets `user`
# read `category` of the person now.
ScopeProvider = Callable[[object, int, str, str], bool]
_SCOPES: dict[str, ScopeProvider] = {}


def register_scope(name: str, provider: ScopeProvider) -> None:
    """A block declares a kind of scoped, time-bounded read access (the admission file
    that a structure may read while the request it received is open). The gate asks the
    provider only when the caller names the scope — `require(..., scope=(name, key))` —
    so the scope opens that one page, never the rest of the record; the read is logged
    as `AccessVia.SCOPED`."""
    if _SCOPES.get(name, provider) is not provider:
        raise ValueError(f"access scope {name!r} registered twice")
    _SCOPES[name] = provider


def _scope_allows(user, person_id: int, category: str, scope: tuple[str, object]) -> bool:
    name, key = scope
    provider = _SCOPES.get(name)
    if provider is None:
        raise ValueError(f"unknown access scope {name!r}")
    return provider(user, person_id, category, str(key))


def require(
    user,
    person: Person | int,
    category: str,
    action: str = "read",
    *,
    path: str = "",
    probe_write: bool = False,
    scope: tuple[str, object] | None = None,
) -> Access:
    """Allow or refuse, and log the access.

    Raises Http404 when the person is unknown to the user (outside the circle), and
    AccessDenied (403) when the user is in the circle without the right. With
    `probe_write`, the returned Access also says whether the user may write, without a
    second query (a page that shows its form only to writers). With `scope`, a read the
    matrix refuses may still be allowed by the named scope (`register_scope`).
    """
    _validate(category, action)
    if not getattr(user, "is_authenticated", False):
        raise Http404
    person_id = person.pk if isinstance(person, Person) else person
    decision = _decide(user, person_id, category, action, probe_write)
    if (
        decision.via is None
        and decision.person is not None
        and scope is not None
        and action == "read"
        and _scope_allows(user, decision.person.pk, category, scope)
    ):
        decision = _Decision(
            person=decision.person, known=True, via=AccessVia.SCOPED, delegate_here=decision.delegate_here
        )
    if decision.via is None and decision.person is not None and _reads_archive(user, decision.person, "read"):
        if action == "write":
            raise AccessDenied(ARCHIVED)
        decision = _Decision(
            person=decision.person, known=True, via=AccessVia.NORMAL, delegate_here=decision.delegate_here
        )
    if decision.via is None or decision.person is None:
        if not decision.known:
            raise Http404
        raise AccessDenied(
            f"Vous n'avez pas le droit de {_VERB[action]} {_WHAT[category]} de cette personne. "
            "Les droits sont décidés par la personne ou son représentant légal."
        )
    archived = decision.person.archived_at is not None
    if archived and action == "write":
        raise AccessDenied(ARCHIVED)
    log(user, decision.person, category, action, decision.via, path=path)
    return Access(
        person=decision.person,
        category=category,
        action=action,
        via=decision.via,
        can_write=(decision.may_write and not archived) if probe_write else None,
        delegate_here=decision.delegate_here,
    )


def _listed(user, decision: _Decision) -> bool:
    """Whether the person of `decision` (a read) is in `visible_person_ids(user, …)` of
    the same category: the matrix's rows, archived records included, except for the
    delegate of a delegation in force, whose list (`persons_visible_to`) leaves archived
    records out and adds the persons delegated to them. Neither break-the-glass, nor a
    scope, nor the archive read of an administrator: those open a page, not a list."""
    person = decision.person
    if person is None:
        return False
    if decision.via in (AccessVia.SELF, AccessVia.REPRESENTATIVE, AccessVia.NORMAL):
        # `_conclude` grants these from the matrix's permission row only.
        return person.archived_at is None or not holds_active_delegation(user)
    if decision.via == AccessVia.DELEGATION:
        # Delegated: the user holds a delegation in force, so their list is the delegate's.
        return person.archived_at is None
    return False


def require_listed(
    user, person: Person | int, category: str, action: str = "read", *, path: str = "", probe_write: bool = False
) -> Access | None:
    """`require` for a person reached through a list built on `visible_person_ids(user,
    category, "read")` (the exchanges: a conversation about a person is visible only
    while its person is in that list), decided for that one person with the gate's
    query instead of the list's subquery. None, and nothing logged, when the person is
    not in the list (the caller answers 404 as the list would hide it); else as
    `require(user, person, category, action)`: the read logged, or for a write the
    gate's own decision (its 403 with a plain reason)."""
    _validate(category, action)
    if not getattr(user, "is_authenticated", False):
        return None
    person_id = person.pk if isinstance(person, Person) else person
    decision = _decide(user, person_id, category, "read", probe_write and action == "read")
    listed = decision.person
    if listed is None or decision.via is None or not _listed(user, decision):
        return None
    if action == "write":
        return require(user, person_id, category, "write", path=path)
    archived = listed.archived_at is not None
    log(user, listed, category, "read", decision.via, path=path)
    return Access(
        person=listed,
        category=category,
        action="read",
        via=decision.via,
        can_write=(decision.may_write and not archived) if probe_write else None,
        delegate_here=decision.delegate_here,
    )


def require_each(
    user, person: Person | int, categories: Iterable[str], action: str = "read", *, path: str = ""
) -> dict[str, Access | None]:
    """`require` for several categories of one person at once (a page that shows a tile
    per category): one query for the decisions, one INSERT for the access log's rows
    (one row per category granted, as `require` writes them). Answers each category's
    Access, or None where `require` would raise AccessDenied; raises Http404 as
    `require` does for a user outside the circle."""
    categories = tuple(dict.fromkeys(categories))
    for category in categories:
        _validate(category, action)
    if not getattr(user, "is_authenticated", False):
        raise Http404
    if not categories:
        return {}
    person_id = person.pk if isinstance(person, Person) else person
    decisions = _decide_many(user, person_id, categories, action)
    answer: dict[str, Access | None] = {}
    archive_read: bool | None = None
    for category, decision in decisions.items():
        if decision.via is None and decision.person is not None:
            if archive_read is None:
                archive_read = _reads_archive(user, decision.person, "read")
            if archive_read:
                if action == "write":
                    answer[category] = None
                    continue
                decision = _Decision(person=decision.person, known=True, via=AccessVia.NORMAL)
        if decision.via is None or decision.person is None:
            if not decision.known:
                raise Http404
            answer[category] = None
            continue
        if decision.person.archived_at is not None and action == "write":
            answer[category] = None
            continue
        answer[category] = Access(person=decision.person, category=category, action=action, via=decision.via)
    granted = [a for a in answer.values() if a is not None]
    if granted:
        context = current_request_context()
        now = timezone.now()
        rows = AccessLog.objects.bulk_create(
            [
                AccessLog(
                    at=now,
                    user=user,
                    person=a.person,
                    category=a.category,
                    action=action,
                    via=a.via,
                    request_id=context.request_id if context else "",
                    ip=context.ip if context else None,
                    path=path[:300],
                )
                for a in granted
            ]
        )
        _written_in_block(rows)
    return answer


ARCHIVED = (
    "Ce dossier est archivé : la coordination est terminée, il ne peut plus être modifié. "
    "Il reste consultable par la personne et les administrateurs des structures qui l'ont accompagnée."
)


def _reads_archive(user, person: Person, action: str) -> bool:
    """An archived record stays readable by the administrators of the structures that
    accompanied the person (their teams' rights ended with the accompaniments)."""
    return (
        action == "read"
        and person.archived_at is not None
        and person.destroyed_at is None
        and rules.administered_structures(user).filter(accompaniments__person=person).exists()
    )


MAX_ID = 2**63 - 1


def get_person_or_404(user, person_id, category: str, action: str = "read", *, path: str = "") -> Person:
    """Load a person through the gate (the usual first line of a view)."""
    try:
        person_id = int(person_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < person_id <= MAX_ID:
        # Beyond a bigint the database refuses the query itself (SQLite: OverflowError).
        raise Http404
    return require(user, person_id, category, action, path=path).person


def log(user, person: Person, category: str, action: str, via: str, *, path: str = "") -> AccessLog:
    context = current_request_context()
    row = AccessLog.objects.create(
        user=user,
        person=person,
        category=category,
        action=action,
        via=via,
        request_id=context.request_id if context else "",
        ip=context.ip if context else None,
        path=path[:300],
    )
    _written_in_block([row])
    return row


_logger = logging.getLogger(__name__)
# The access-log rows written inside `atomic_with_log` (None outside it).
_block_rows: ContextVar[list[AccessLog] | None] = ContextVar("access_log_block_rows", default=None)


def _written_in_block(rows: list[AccessLog]) -> None:
    block = _block_rows.get()
    if block is not None:
        block.extend(rows)


@contextmanager
def atomic_with_log() -> Iterator[None]:
    """One transaction for the access-log rows the gate writes in the block and the page's
    own writes (the notebook's read marks, the overview's visit): one commit, so one wait
    for the WAL flush, instead of one per statement (4 ms each on the bench machine,
    bench/README.md). The rows are committed when the block ends, before the page is
    answered.

    If the block fails, its writes are rolled back, but what the gate allowed stays
    logged: the rows are written again, on their own, before the error goes on (an access
    log never loses a granted read). Only for blocks that read and write the page's data,
    not for services with side effects of their own."""
    rows: list[AccessLog] = []
    token = _block_rows.set(rows)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        _block_rows.reset(token)
        if rows:
            _write_again(rows)
        raise
    _block_rows.reset(token)
    _written_in_block(rows)  # committed only with an enclosing block, if any: it must know them


def _write_again(rows: list[AccessLog]) -> None:
    for row in rows:
        row.pk = None
        row._state.adding = True
    try:
        AccessLog.objects.bulk_create(rows)
    except Exception:  # the error that failed the block goes on; this one is only logged
        _logger.exception("access log: %d row(s) of a failed block could not be written again", len(rows))
    else:
        _written_in_block(rows)  # an enclosing block must know them too


def _listed_via(user, person: Person) -> str:
    """How a person from `persons_visible_to` was reached (its annotations say it)."""
    if person.user_id == user.pk:
        return AccessVia.SELF
    if not getattr(person, "via_matrix", True):
        return AccessVia.DELEGATION
    if getattr(person, "via_representative", False):
        return AccessVia.REPRESENTATIVE
    return AccessVia.NORMAL


def log_many(user, persons: Iterable[Person], category: str, *, path: str = "", via: str = "") -> None:
    """Log a read of several persons at once (a list page): one INSERT. `via` says how
    they were reached when it is not a list of the gate (a scoped access)."""
    log_listed(user, ((person, category) for person in persons), path=path, via=via)


def log_listed(user, reads: Iterable[tuple[Person, str]], *, path: str = "", via: str = "") -> None:
    """Log the reads of a page that shows several lists, (person, category) each: one INSERT."""
    context = current_request_context()
    now = timezone.now()
    rows = [
        AccessLog(
            at=now,
            user=user,
            person=person,
            category=category,
            action="read",
            via=via or _listed_via(user, person),
            request_id=context.request_id if context else "",
            ip=context.ip if context else None,
            path=path[:300],
        )
        for person, category in reads
    ]
    if rows:
        AccessLog.objects.bulk_create(rows)
        _written_in_block(rows)


def holds_active_delegation(user, now=None) -> bool:
    """Whether `user` is the delegate of a delegation in force (one cheap query): the
    person lists join the delegation rules in only then."""
    return rules.active_delegations(now or timezone.now()).filter(delegate__user=user).exists()


def persons_visible_to(
    user, category: str = Category.RECORD, action: str = "read", *, delegate: bool | None = None
) -> QuerySet[Person]:
    """Persons on whom `user` may do `action` on `category` (matrix or delegation).

    As in `users_allowed`, the delegation rules join in only when `user` holds an active
    delegation (one cheap query): planning them cost PostgreSQL more than running the
    whole list ("my feed", measured in bench/liaison.py). A caller that builds several
    lists for one answer (the caseload and its counters) asks `holds_active_delegation`
    once and passes it as `delegate`: the rights are read once, in the same instant, for
    the whole answer, and nothing is kept beyond it.
    """
    _validate(category, action)
    if not getattr(user, "is_authenticated", False):
        return Person.objects.none()
    now = timezone.now()
    if delegate is None:
        delegate = holds_active_delegation(user, now)
    person_ref = OuterRef("pk")
    # An archived record leaves the lists (it stays reachable by its own address).
    queryset = Person.objects.filter(archived_at__isnull=True).annotate(
        via_representative=Exists(
            CarerLink.objects.filter(person=person_ref, user=user, is_legal_representative=True, ended_on__isnull=True)
        ),
    )
    if not delegate:
        holders = PersonUserObjectPermission.objects.filter(
            user=user, permission__codename=permission_codename(category, action)
        ).values("content_object_id")
        return queryset.annotate(via_matrix=Value(True)).filter(pk__in=holders)
    return queryset.annotate(via_matrix=_perm_exists(user, person_ref, category, action)).filter(
        Q(via_matrix=True) | Q(_delegation_exists(user, person_ref, category, action, now))
    )


def visible_person_ids(user, category: str = Category.RECORD, action: str = "read", *, delegate: bool | None = None):
    """The ids of `persons_visible_to(user, category, action)`, as a flat values_list
    queryset for `person__in=` (a subquery, not a list). Without a delegation, straight from the
    matrix's permission rows: neither the person table nor the list's annotations, which
    the counters of coordination.news built per request for nothing (bench/README.md)."""
    _validate(category, action)
    if not getattr(user, "is_authenticated", False):
        return Person.objects.none().values_list("pk", flat=True)
    if delegate is None:
        delegate = holds_active_delegation(user)
    if not delegate:
        return PersonUserObjectPermission.objects.filter(
            user=user, permission__codename=permission_codename(category, action)
        ).values_list("content_object_id", flat=True)
    return persons_visible_to(user, category, action, delegate=True).values_list("pk", flat=True)


@dataclass(frozen=True)
class Reach:
    """The persons a user may reach, per category and action, read once for one answer
    that assembles several lists (the professional's day): `reach_of` asks the matrix
    (and the delegations in force) in one query, and each list filters on these ids
    instead of building, compiling and planning the gate's subquery again. It is what
    `persons_visible_to` answers at that instant, and is kept for that answer only."""

    delegate: bool
    ids: dict[tuple[str, str], Ids]  # one value to Django and psycopg (common.lookups)
    # Of `ids`, those a delegate reaches only through a delegation in force (no matrix row).
    delegated: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)

    def person_ids(self, category: str, action: str = "read") -> Ids:
        return self.ids[(category, action)]

    def via(self, person_id: int, category: str, action: str = "read") -> str:
        """How the person was reached, for the access log: a delegation, or the matrix
        (the log's own rules then say self, representative or normal)."""
        return AccessVia.DELEGATION if person_id in self.delegated.get((category, action), ()) else ""


def reach_of(user, pairs: Iterable[tuple[str, str]], *, delegate: bool | None = None) -> Reach:
    """`Reach` for the (category, action) pairs named: one query on the matrix's rows
    (archived records left out, as in the lists), or, for the delegate of a delegation in
    force, one list of the gate per pair."""
    pairs = tuple(dict.fromkeys(pairs))
    for category, action in pairs:
        _validate(category, action)
    if not getattr(user, "is_authenticated", False):
        return Reach(False, dict.fromkeys(pairs, Ids()))
    if delegate is None:
        delegate = holds_active_delegation(user)
    if delegate:
        ids: dict[tuple[str, str], Ids] = {}
        delegated: dict[tuple[str, str], frozenset[int]] = {}
        for category, action in pairs:
            reached = list(persons_visible_to(user, category, action, delegate=True).values_list("pk", "via_matrix"))  # type: ignore[misc]
            ids[(category, action)] = Ids(pk for pk, _matrix in reached)
            delegated[(category, action)] = frozenset(pk for pk, matrix in reached if not matrix)
        return Reach(True, ids, delegated)
    codes = {permission_codename(category, action): (category, action) for category, action in pairs}
    found: dict[tuple[str, str], list[int]] = {pair: [] for pair in pairs}
    rows = PersonUserObjectPermission.objects.filter(
        user=user, permission__codename__in=codes, content_object__archived_at__isnull=True
    ).values_list("permission__codename", "content_object_id")
    for codename, person_id in rows:
        found[codes[codename]].append(person_id)
    return Reach(False, {pair: Ids(ids) for pair, ids in found.items()})


def persons_in(user, category: str, action: str = "read", *, delegate: bool | None = None, reach: Reach | None = None):
    """What `person__in=` takes for the persons `user` may reach: the ids of `reach` when
    the answer read them once, else the gate's list as a subquery."""
    if reach is not None:
        return reach.person_ids(category, action)
    return persons_visible_to(user, category, action, delegate=delegate).values("pk")


def users_allowed(person: Person, category: str, action: str = "read", users=None):
    """Users who may do `action` on `category` of `person` (for notifications, feeds).

    Break-the-glass is not included: an emergency opening is not a subscription.
    The holders of the permission are read with a plain `IN (subquery)`; the delegation
    rules are added only when the person has an active delegation (one cheap query):
    always added, their joins cost PostgreSQL 5–6 ms of planning on every call (the
    addressees of the liaison form, measured in bench/liaison.py), for a rare case.
    """

    _validate(category, action)
    User = get_user_model()
    now = timezone.now()
    queryset = User.objects.filter(is_active=True) if users is None else users
    holders = PersonUserObjectPermission.objects.filter(
        content_object=person, permission__codename=permission_codename(category, action)
    ).values("user_id")
    allowed = Q(pk__in=holders)
    if rules.active_delegations(now).filter(person=person).exists():
        allowed |= Q(_delegation_exists(OuterRef("pk"), person, category, action, now))
    return queryset.filter(allowed)


def effective_levels(user, person: Person) -> dict[str, int]:
    """The user's level on each category of `person` (matrix and delegations), for display."""
    levels = matrix.levels_of(person, user.pk)
    if getattr(user, "professional", None) is None:
        # A delegate is a professional profile (active or not, as in the gate): without
        # one, no delegation to read. The profile is the user row's, read once per
        # request (the MFA rule reads it first): one query less on the person's side.
        return levels
    now = timezone.now()
    delegated = list(
        DelegationGrant.objects.filter(
            rules.delegation_in_force_q("delegation__", now), delegation__person=person, delegation__delegate__user=user
        ).values_list("category", "level", "delegation__delegator__user_id")
    )
    if delegated:
        delegator_levels = {
            delegator_id: matrix.levels_of(person, delegator_id)
            for delegator_id in {delegator_id for _c, _l, delegator_id in delegated}
        }
        for category, level, delegator_id in delegated:
            levels[category] = max(levels[category], min(level, delegator_levels[delegator_id][category]))
    return levels


def deciders(person: Person):
    """Active users who decide for `person` (notification recipients)."""

    return get_user_model().objects.filter(rules.deciders_q(person), is_active=True).distinct()


def readers(category: str):
    """Recipients function: the users who may read `category` of the person."""

    def recipients(person: Person):
        return users_allowed(person, category, "read")

    return recipients


# --- Decisions that are not a category of the matrix ---------------------------------------------


DECIDER_ONLY = "Seule la personne ou son représentant légal peut prendre cette décision."
ACCESS_LOG_REFUSED = (
    "Seuls la personne, son représentant légal et l'administrateur d'une structure qui l'accompagne "
    "peuvent consulter l'historique des accès."
)


def require_decider(user, person: Person) -> None:
    """The person or an active legal representative (they decide the matrix, answer join
    requests and delegations, record consents on the portal); else AccessDenied."""
    if not rules.is_decider(user, person):
        raise AccessDenied(DECIDER_ONLY)


def require_structure_admin(user, structure_id) -> Structure:
    """A structure the user administers today; 404 otherwise (its existence is not disclosed)."""
    try:
        structure_id = int(structure_id)
    except (TypeError, ValueError):
        raise Http404 from None
    structure = rules.administered_structures(user).filter(pk=structure_id).first()
    if structure is None:
        raise Http404
    return structure


@dataclass(frozen=True)
class AccessLogAccess:
    person: Person
    # Administrators of an accompanying structure see the IP addresses; the person does not need them.
    show_ip: bool


def require_access_log(user, person_id, *, path: str = "") -> AccessLogAccess:
    """Reading who accessed a person's data: the person, a legal representative, or an
    administrator of a structure that accompanies the person. A circle member otherwise
    gets AccessDenied, anyone else 404. The reading itself is logged."""
    try:
        person = Person.objects.get(pk=int(person_id))
    except (TypeError, ValueError, Person.DoesNotExist):
        raise Http404 from None
    if not getattr(user, "is_authenticated", False):
        raise Http404
    show_ip = rules.administers_accompanying_structure(user, person)
    if show_ip:
        via = AccessVia.NORMAL
    elif person.user_id == user.pk:
        via = AccessVia.SELF
    elif rules.is_legal_representative(user, person):
        via = AccessVia.REPRESENTATIVE
    elif CircleMember.objects.active().filter(person=person, user=user).exists():
        raise AccessDenied(ACCESS_LOG_REFUSED)
    else:
        raise Http404
    log(user, person, ACCESS_LOG, "read", via, path=path)
    return AccessLogAccess(person=person, show_ip=show_ip)


def access_log_entries(person: Person) -> QuerySet[AccessLog]:
    """The person's access log, newest first, without the rows of the request being
    served (reading the log is logged, but a page shows what happened before it)."""
    entries = AccessLog.objects.filter(person=person)
    context = current_request_context()
    if context is not None and context.request_id:
        entries = entries.exclude(request_id=context.request_id)
    return entries.select_related("user").order_by("-at", "-pk")


EXPORT_REFUSED = (
    "Seuls la personne, son représentant légal et l'administrateur d'une structure qui l'accompagne "
    "peuvent demander l'export du dossier."
)


def require_record_export(user, person_id) -> Person:
    """Asking for the export of a person's whole record: the person, a legal
    representative (portability), or an administrator of a structure that accompanies
    the person. A circle member otherwise gets AccessDenied, anyone else 404. What the
    export then holds is what the gate gives the requester, category by category."""
    try:
        person = Person.objects.get(pk=int(person_id))
    except (TypeError, ValueError, OverflowError, Person.DoesNotExist):
        raise Http404 from None
    if not getattr(user, "is_authenticated", False):
        raise Http404
    if rules.is_decider(user, person) or rules.administers_accompanying_structure(user, person):
        return person
    if _reads_archive(user, person, "read"):
        return person
    if CircleMember.objects.active().filter(person=person, user=user).exists():
        raise AccessDenied(EXPORT_REFUSED)
    raise Http404
