"""`field__among=ids`: `field IN (ids)`, the ids passed as one array on PostgreSQL.

Django writes `IN (%s, %s, …)` with one parameter per id, and psycopg then splits and
quotes every placeholder of the statement's text on each execution: with the 150-odd
ids of a caseload in each of the professional's day's eighteen lists, building and
sending the id lists was about a sixth of the page (bench/README.md, "/pro/").
PostgreSQL plans `IN (1, 2, …)` as `= ANY('{1,2,…}')`: `= ANY(%s)` with one array
parameter is the same statement, in one placeholder. Elsewhere (SQLite) and for a
subquery it is `__in` itself.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.expressions import ColPairs
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


def _one_array(lookup: In, compiler, connection):
    if not lookup.rhs_is_direct_value() or isinstance(lookup.lhs, ColPairs):  # a subquery, a composite key
        return lookup.as_sql(compiler, connection)
    values = [value for value in lookup.rhs if value is not None]
    if not values:
        raise EmptyResultSet  # as `__in`: nothing matches an empty list
    lhs, lhs_params = lookup.process_lhs(compiler, connection)
    return f"{lhs} = ANY(%s)", (*lhs_params, values)


@Field.register_lookup
class Among(In):
    lookup_name = "among"

    def as_postgresql(self, compiler, connection):
        return _one_array(self, compiler, connection)


@ForeignObject.register_lookup
class RelatedAmong(RelatedIn):
    lookup_name = "among"

    def as_postgresql(self, compiler, connection):
        return _one_array(self, compiler, connection)
