"""`field__among=ids`: `field IN (ids)`, the ids passed as one array on PostgreSQL.

Django writes `IN (%s, %s, …)` with one parameter per id, and psycopg then splits and
quotes every placeholder of the statement's text on each execution: with the 150-odd
ids of a caseload in each of the professional's day's eighteen lists, building and
sending the id lists was about a sixth of the page (bench/README.md, "/pro/").
PostgreSQL plans `IN (1, 2, …)` as `= ANY('{1,2,…}')`: `= ANY(%s)` with one array
parameter is the same statement, in one placeholder. Elsewhere (SQLite) and for a
subquery it is `__in` itself.

`Ids` is a list of ids read once and passed to several lists (the reach of the day):
Django treats it as one value, so it neither walks it id by id when it builds each
filter (`resolve_lookup_value`, `RelatedIn`'s normalisation and each id's
`get_prep_value`: 13–18 % of /pro/'s CPU in a cProfile, with the same 150-odd ids in
25 filters) nor makes psycopg dump each id: it goes as one text literal, written once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.expressions import ColPairs
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


class Ids:
    """Integer ids, checked and sorted once, for `__among` (and `__in`, `in`, `len`).

    Not a tuple on purpose: Django walks a list or a tuple value element by element each
    time it builds a filter; this is one value, already prepared."""

    __slots__ = ("_ids", "_literal", "_set")

    def __init__(self, ids: Iterable[int] = ()):
        values = tuple(sorted(set(ids)))
        for value in values:
            if type(value) is not int:  # noqa: E721 - not bool, not a str: ids only
                raise TypeError(f"Ids takes integers, not {type(value).__name__}")
        self._ids = values
        self._set = frozenset(values)
        self._literal = "{" + ",".join(map(str, values)) + "}"

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, value: object) -> bool:
        return value in self._set

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Ids):
            return self._ids == other._ids
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._ids)

    def __repr__(self) -> str:
        return f"Ids({list(self._ids)!r})"

    @property
    def literal(self) -> str:
        """The PostgreSQL array literal, `{1,2,3}`."""
        return self._literal


def _one_array(lookup: In, compiler, connection):
    if not lookup.rhs_is_direct_value() or isinstance(lookup.lhs, ColPairs):  # a subquery, a composite key
        return lookup.as_sql(compiler, connection)
    if isinstance(lookup.rhs, Ids):
        if not lookup.rhs:
            raise EmptyResultSet
        lhs, lhs_params = lookup.process_lhs(compiler, connection)
        # One text parameter cast to the column's type (what the ids were checked to be).
        db_type = lookup.lhs.output_field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{db_type}[])", (*lhs_params, lookup.rhs.literal)
    values = [value for value in lookup.rhs if value is not None]
    if not values:
        raise EmptyResultSet  # as `__in`: nothing matches an empty list
    lhs, lhs_params = lookup.process_lhs(compiler, connection)
    return f"{lhs} = ANY(%s)", (*lhs_params, values)


@Field.register_lookup
class Among(In):
    lookup_name = "among"

    def get_prep_lookup(self):
        if isinstance(self.rhs, Ids):  # already integers: nothing to prepare, id by id
            return self.rhs
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        return _one_array(self, compiler, connection)


@ForeignObject.register_lookup
class RelatedAmong(RelatedIn):
    lookup_name = "among"

    def get_prep_lookup(self):
        if isinstance(self.rhs, Ids) and not isinstance(self.lhs, ColPairs):
            return self.rhs
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        return _one_array(self, compiler, connection)
