"""Shared API pieces: the exception handler keeps error bodies in French and minimal;
the API's documentation page."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        # Never say whether the object exists.
        exc = NotFound("Introuvable.")
    return drf_exception_handler(exc, context)


class SwaggerView(SpectacularSwaggerSplitView):
    """The interactive documentation (a page; the schema itself is `SpectacularAPIView`).
    Only GET: its only renderer is a template, which has nothing to say to OPTIONS."""

    http_method_names = ["get", "head"]
