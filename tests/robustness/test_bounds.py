"""Every text is bounded and every date sane, in the pages (shown as `maxlength`) and in
the API (documented as maxLength), with a French message naming the field."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import timedelta

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from agenda import services as agenda_services
from common.api import InputSerializerMixin, ServiceAPIView
from common.forms import AccessibleFormMixin
from common.validation import LONG_TEXT_MAX
from liaison.models import Transmission
from tests.conftest import login
from tests.robustness.conftest import url_routes

APPS = ("common", "coordination", "notifications", "documents", "agenda", "ppa", "liaison", "portal")


def _our_classes(base: type) -> list[type]:
    found = set()
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" in module.name or ".management" in module.name:
                continue
            for _name, obj in vars(importlib.import_module(module.name)).items():
                if inspect.isclass(obj) and issubclass(obj, base) and obj.__module__.startswith(APPS):
                    found.add(obj)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def test_every_form_of_the_pages_bounds_its_texts_and_dates():
    # The admin's forms are Django's own (administrators only).
    page_forms = [cls for cls in _our_classes(forms.BaseForm) if not cls.__module__.endswith("admin")]
    assert len(page_forms) > 40
    assert [cls for cls in page_forms if not issubclass(cls, AccessibleFormMixin)] == []


def test_every_api_operation_takes_a_bounded_input_serializer():
    views = {
        pattern.callback.view_class for _route, pattern in url_routes("api/") if hasattr(pattern.callback, "view_class")
    }
    service_views = [view for view in views if issubclass(view, ServiceAPIView)]
    assert len(service_views) > 50
    unbounded = [
        view.__name__
        for view in service_views
        if not issubclass(view.serializer_class, InputSerializerMixin)
        and any(hasattr(view, method) for method in ("post", "put", "patch"))
    ]
    assert unbounded == []


def test_a_transmission_over_the_limit_is_refused_on_the_page_which_shows_the_limit(person, nurse):
    client = login(nurse)
    page = client.get(reverse("liaison:notebook", args=[person.pk]), {"nouvelle": 1}).content.decode()
    assert f'maxlength="{LONG_TEXT_MAX}"' in page.split('name="text"')[0][-300:] + page.split('name="text"')[1][:300]
    response = client.post(
        reverse("liaison:notebook", args=[person.pk]),
        {"category": "autre", "kind": "general", "text": "x" * (LONG_TEXT_MAX + 1), "scope": "shared"},
    )
    assert response.status_code == 400
    errors = response.content.decode().split('id="id_text_errors"', 1)[1][:400]
    assert "20000" in errors.replace("\u202f", "").replace(" ", "")
    assert not Transmission.objects.exists()


def test_a_transmission_over_the_limit_is_refused_by_the_api_which_documents_it(person, nurse):
    client = login(nurse)
    response = client.post(
        reverse("liaison_api:notebook", args=[person.pk]),
        {"category": "autre", "text": "x" * (LONG_TEXT_MAX + 1)},
        content_type="application/json",
    )
    assert response.status_code == 400 and list(response.json()) == ["text"]
    assert not Transmission.objects.exists()
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert schema["components"]["schemas"]["TransmissionCreate"]["properties"]["text"]["maxLength"] == LONG_TEXT_MAX


@pytest.mark.parametrize("observed_at", ["0001-01-01T10:00:00+01:00", "1899-12-31T10:00:00+01:00"])
def test_an_observation_before_1900_is_refused(person, nurse, observed_at):
    response = login(nurse).post(
        reverse("liaison_api:notebook", args=[person.pk]),
        {"category": "autre", "text": "Chute.", "observed_at": observed_at},
        content_type="application/json",
    )
    assert response.status_code == 400 and "entre 1900 et 2100" in response.json()["observed_at"][0]
    page = login(nurse).post(
        reverse("liaison:notebook", args=[person.pk]),
        {
            "category": "autre",
            "kind": "general",
            "text": "Chute.",
            "scope": "shared",
            "observed_at": "1899-12-31T10:00",
        },
    )
    assert page.status_code == 400 and "entre 1900 et 2100" in page.content.decode()
    assert not Transmission.objects.exists()


def test_an_event_after_2100_is_refused_and_an_existing_one_unchanged(person, referent):
    start = timezone.now() + timedelta(days=1)
    event = agenda_services.event_create(
        actor=referent, person=person, title="Consultation", starts_at=start, ends_at=start + timedelta(hours=1)
    )
    response = login(referent).patch(
        f"/api/agenda/events/{event.pk}/",
        {"start": "9999-12-31T10:00:00+01:00", "end": "9999-12-31T11:00:00+01:00"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "entre 1900 et 2100" in response.json()["start"][0]
    event.refresh_from_db()
    assert event.starts_at == start
