"""`__among` (common.lookups): the rows of `__in`, with the ids in one array parameter
on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.lookups import Ids
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


def test_ids_find_what_a_list_finds_with_among_and_in(nurse):
    first, second, third = PersonFactory(), PersonFactory(), PersonFactory()
    ids = Ids([third.pk, first.pk, first.pk])
    assert list(ids) == sorted([first.pk, third.pk]) and len(ids) == 2 and first.pk in ids and second.pk not in ids
    assert set(Person.objects.filter(pk__among=ids)) == {first, third}
    assert set(Person.objects.filter(pk__in=ids)) == {first, third}
    for person in (first, second):
        Transmission.objects.create(
            person=person, author=nurse, observed_at=person.created_at, category="observations", text="x"
        )
    assert list(Transmission.objects.filter(person__among=ids).values_list("person_id", flat=True)) == [first.pk]
    assert list(Transmission.objects.filter(person__in=ids).values_list("person_id", flat=True)) == [first.pk]
    with CaptureQueriesContext(connection) as queries:
        assert list(Person.objects.filter(pk__among=Ids())) == []
    assert len(queries) == 0


def test_ids_take_integers_only():
    for wrong in (["1"], [1.0], [True], [None]):
        with pytest.raises(TypeError):
            Ids(wrong)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one array parameter on PostgreSQL only")
def test_ids_go_as_one_text_parameter_cast_to_the_column_type():
    people = [PersonFactory() for _ in range(3)]
    ids = Ids(p.pk for p in people)
    sql, params = Transmission.objects.filter(person__among=ids).query.sql_with_params()
    assert "= ANY(%s::integer[])" in sql or "= ANY(%s::bigint[])" in sql
    assert (
        ids.literal in params
        and ids.literal == "{" + ",".join(str(p.pk) for p in sorted(people, key=lambda p: p.pk)) + "}"
    )
