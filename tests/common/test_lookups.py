"""`__among` (common.lookups): the rows of `__in`, with the ids in one array parameter
on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from coordination.models import Person
from liaison.models import Transmission
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_it_finds_what_in_finds_on_a_field_and_through_a_foreign_key(nurse):
    first, second, third = PersonFactory(), PersonFactory(), PersonFactory()
    ids = [first.pk, third.pk, None]
    assert set(Person.objects.filter(pk__among=ids)) == {first, third}
    for person in (first, second):
        Transmission.objects.create(
            person=person, author=nurse, observed_at=person.created_at, category="observations", text="x"
        )
    assert list(Transmission.objects.filter(person__among=ids).values_list("person_id", flat=True)) == [first.pk]
    # A subquery, as `__in`.
    subquery = Person.objects.filter(pk=second.pk).values("pk")
    assert list(Transmission.objects.filter(person__among=subquery).values_list("person_id", flat=True)) == [second.pk]
    # Nothing matches an empty list (and no query is needed to say so).
    with CaptureQueriesContext(connection) as queries:
        assert list(Person.objects.filter(pk__among=[])) == []
    assert len(queries) == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one array parameter on PostgreSQL only")
def test_it_passes_the_ids_as_one_parameter_on_postgresql():
    people = [PersonFactory() for _ in range(3)]
    sql, params = Person.objects.filter(pk__among=[p.pk for p in people]).query.sql_with_params()
    assert "= ANY(%s)" in sql and [p.pk for p in people] in [list(v) for v in params if isinstance(v, list)]
