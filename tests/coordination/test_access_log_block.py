"""The access log shares a page's transaction (`access.atomic_with_log`) without ever
losing a granted read: the notebook and the overview commit their row with their own
writes; a block that fails still leaves its rows."""

from __future__ import annotations

import pytest
from django.db import connection, connections
from django.urls import reverse

from coordination import access
from coordination.models import AccessLog, Category, RecordVisit
from liaison import services as liaison_services
from liaison.models import ReadMark
from tests.conftest import login


class Boom(Exception):
    pass


def _rows(user, person):
    return list(AccessLog.objects.filter(user=user, person=person).values_list("category", "action", "via"))


@pytest.fixture
def transmission(person, referent):
    return liaison_services.transmission_create(
        actor=referent, person=person, category="observations", text="Bien dormi."
    )


def test_notebook_logs_the_read_and_marks_it_read(nurse, person, transmission):
    response = login(nurse).get(reverse("liaison:notebook", args=[person.pk]))
    assert response.status_code == 200
    assert "Bien dormi." in response.content.decode()
    assert _rows(nurse, person) == [("liaison", "read", "normal")]
    assert ReadMark.objects.filter(user=nurse, transmission=transmission).exists()


def test_overview_logs_the_read_and_records_the_visit(nurse, person):
    response = login(nurse).get(reverse("coordination:person", args=[person.pk]))
    assert response.status_code == 200
    assert _rows(nurse, person) == [("record", "read", "normal")]
    assert RecordVisit.objects.filter(user=nurse, person=person).exists()


def test_a_failed_block_keeps_its_access_log_rows(nurse, person, transmission):
    with pytest.raises(Boom), access.atomic_with_log():
        access.require(nurse, person.pk, Category.LIAISON, "read", path="/essai/")
        access.log_many(nurse, [person], Category.RECORD, path="/essai/")
        liaison_services.mark_read(actor=nurse, transmissions=[transmission])
        raise Boom
    # The page's own write is rolled back; the reads the gate allowed stay logged.
    assert not ReadMark.objects.filter(user=nurse, transmission=transmission).exists()
    assert sorted(_rows(nurse, person)) == [("liaison", "read", "normal"), ("record", "read", "normal")]
    assert set(AccessLog.objects.filter(user=nurse, person=person).values_list("path", flat=True)) == {"/essai/"}


def test_a_refusal_in_a_block_logs_nothing(stranger, person):
    from django.http import Http404

    with pytest.raises(Http404), access.atomic_with_log():
        access.require(stranger, person.pk, Category.LIAISON, "read")
    assert _rows(stranger, person) == []


def test_an_enclosing_block_that_fails_keeps_the_rows_of_an_inner_one(nurse, person):
    with pytest.raises(Boom), access.atomic_with_log():
        with access.atomic_with_log():
            access.require(nurse, person.pk, Category.LIAISON, "read")
        raise Boom
    assert _rows(nurse, person) == [("liaison", "read", "normal")]


@pytest.mark.django_db(transaction=True)
def test_the_notebook_commits_once(nurse, person, transmission, monkeypatch):
    """The access log's row and the read marks: one commit (each was its own before)."""
    client = login(nurse)
    url = reverse("liaison:notebook", args=[person.pk])
    client.get(url)  # the session's first write, the first read marks…
    ReadMark.objects.filter(user=nurse).delete()
    commits = []
    original = type(connections["default"]).commit

    def explicit(self):
        commits.append("COMMIT")
        return original(self)

    def implicit(execute, sql, params, many, context):
        # A write outside a transaction is committed on its own.
        if connection.get_autocommit() and sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            commits.append(sql[:40])
        return execute(sql, params, many, context)

    monkeypatch.setattr(type(connections["default"]), "commit", explicit)
    with connection.execute_wrapper(implicit):
        assert client.get(url).status_code == 200
    assert commits == ["COMMIT"]
    assert ReadMark.objects.filter(user=nurse, transmission=transmission).exists()
    assert AccessLog.objects.filter(user=nurse, person=person, category="liaison").count() == 2
