"""`common.dashboard.sections`: the count and first items of several lists, the same as
`section` of each, in one round trip on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.dashboard import COUNT_CAP, section, sections
from common.lookups import Ids
from coordination.models import Person
from liaison.models import Transmission
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_sections_answer_what_section_answers_in_one_query(nurse):
    first, second = PersonFactory(), PersonFactory()
    for index in range(COUNT_CAP + 2):
        Transmission.objects.create(
            person=first if index % 2 else second,
            author=nurse,
            observed_at=first.created_at,
            category="observations",
            text=f"t{index}",
        )
    transmission_fields = ("pk", "person", "person__first_name", "created_at", "text")
    lists = [
        (Transmission.objects.order_by("pk"), transmission_fields),
        (Transmission.objects.filter(person=first).order_by("-pk"), transmission_fields),
        (Person.objects.filter(pk__among=Ids()).order_by("pk"), ("pk",)),  # empty: no statement
        (Person.objects.filter(pk__among=Ids([second.pk])).order_by("pk"), ("pk", "first_name")),
    ]
    expected = [section(queryset, fields) for queryset, fields in lists]
    with CaptureQueriesContext(connection) as queries:
        found = sections(lists)
    assert [(s.count, s.items) for s in found] == [(s.count, s.items) for s in expected]
    assert found[0].count_display == f"{COUNT_CAP - 1}+" and found[1].count == (COUNT_CAP + 2) // 2
    assert found[0].items[0]["created_at"].tzinfo is not None and found[2].count == 0
    assert found[3].items == [{"pk": second.pk, "first_name": second.first_name}]
    assert len(queries) == (1 if connection.vendor == "postgresql" else 3)
