"""What a dashboard section is: a count and the first items of a list.

Each block's selectors build the querysets of the professional's day (the gate's
querysets inside); `section` turns one into what a page shows, in one query whatever
the size of the list: at most `COUNT_CAP` rows of the few fields the page shows,
counted (shown as "99+" at the cap), the first `size` kept as dicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

COUNT_CAP = 100
FIRST_ITEMS = 5


@dataclass
class Section:
    count: int
    items: list = field(default_factory=list)

    @property
    def is_capped(self) -> bool:
        return self.count >= COUNT_CAP

    @property
    def count_display(self) -> str:
        return f"{COUNT_CAP - 1}+" if self.is_capped else str(self.count)

    @property
    def more(self) -> int:
        """How many items are not shown (for "et N autres")."""
        return max(self.count - len(self.items), 0)


def section(queryset: QuerySet, fields: Sequence[str], size: int = FIRST_ITEMS) -> Section:
    """The count and the first `size` items of an ordered queryset, in one query: at most
    `COUNT_CAP` rows of `fields` (`values_list`: no model instance), whose number is the
    count shown ("99+" at the cap) and whose first `size` become the items, as dicts of
    `fields`. A window counting every matching row cost as much as the list it counted;
    here the work stops at the cap, whatever the caseload."""
    rows = list(queryset.values_list(*fields)[:COUNT_CAP])
    return _section(rows, fields, size)


def _section(rows: list, fields: Sequence[str], size: int) -> Section:
    return Section(len(rows), [dict(zip(fields, row, strict=True)) for row in rows[:size]])


def sections(lists: Sequence[tuple[QuerySet, Sequence[str]]], size: int = FIRST_ITEMS) -> list[Section]:
    """`section` of each (queryset, fields), in one round trip on PostgreSQL: the
    statements the ORM compiles go together, separated by semicolons (psycopg binds the
    parameters client-side and sends them as one simple query), and their results are
    read one after the other (`nextset`), each through its own compiler's converters, as
    `values_list` would. Each statement is the one `section` runs; elsewhere (SQLite),
    one query each."""
    if not lists:
        return []
    prepared = [(queryset.values_list(*fields)[:COUNT_CAP], fields) for queryset, fields in lists]
    using = prepared[0][0].db
    connection = connections[using]
    if connection.vendor != "postgresql" or len(prepared) == 1:
        return [_section(list(queryset), fields, size) for queryset, fields in prepared]
    compilers: list[SQLCompiler | None] = []
    statements: list[str] = []
    params: list = []
    for queryset, _fields in prepared:
        compiler = queryset.query.get_compiler(using=using)
        try:
            sql, sql_params = compiler.as_sql()
        except EmptyResultSet:  # a filter on an empty list: nothing, and no statement
            compilers.append(None)
            continue
        compilers.append(compiler)
        statements.append(sql)
        params.extend(sql_params)
    found: list[list] = []
    with connection.cursor() as cursor:
        if statements:
            cursor.execute(";\n".join(statements), params)
        first = True
        for compiler in compilers:
            if compiler is None:
                found.append([])
                continue
            if not first:
                cursor.nextset()
            first = False
            rows = cursor.fetchall()
            if compiler.has_extra_select:
                rows = [row[: compiler.col_count] for row in rows]
            found.append(list(compiler.results_iter(results=[rows], tuple_expected=True)))
    return [_section(rows, fields, size) for rows, (_queryset, fields) in zip(found, prepared, strict=True)]


def counts(querysets: dict[str, QuerySet]) -> dict[str, int]:
    """The number of rows of each queryset, in one query (a scalar subquery each): the
    figures of a page in one round trip instead of one per figure."""
    if not querysets:
        return {}
    parts: list[str] = []
    params: list = []
    using = next(iter(querysets.values())).db
    for queryset in querysets.values():
        try:
            sql, sql_params = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # a filter on an empty list: nothing to count
            parts.append("0")
            continue
        # The ORM's own compiled text, every value a parameter.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted)")  # noqa: S608
        params.extend(sql_params)
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, (int(value) for value in row), strict=True))
