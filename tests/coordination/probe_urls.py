"""A small page and API view per category, until every block has its real views.

Both go through the gate exactly as the blocks' views do: GET reads, POST writes.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.response import Response

from coordination import access
from portal.urls import urlpatterns as portal_urlpatterns


def _action(request) -> str:
    return "write" if request.method == "POST" else "read"


@login_required
def page_probe(request, category: str, person_id: int):
    person = access.get_person_or_404(request.user, person_id, category, _action(request), path=request.path)
    return HttpResponse(f"{category} de {person.display_name}")


@api_view(["GET", "POST"])
def api_probe(request, category: str, person_id: int):
    person = access.get_person_or_404(request.user, person_id, category, _action(request), path=request.path)
    return Response({"category": category, "person": person.pk})


urlpatterns = [
    *portal_urlpatterns,
    path("probe/<str:category>/<int:person_id>/", page_probe),
    path("api/probe/<str:category>/<int:person_id>/", api_probe),
]
handler403 = "portal.views.error_403"
handler404 = "portal.views.error_404"
