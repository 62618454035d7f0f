"""The API's renderers (a module of its own: DRF reads the renderer setting while
`rest_framework.generics` is being imported, so it cannot live in `common.api`)."""

from __future__ import annotations

from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """The browsable API, for a developer reading the API in a browser: the JSON answer
    and a raw-data form. No HTML form: it would list every choice of a related field (all
    professionals, all needs of every plan…), and no filter form (our views filter in
    their handlers, they have no queryset)."""

    def get_rendered_html_form(self, data, view, method, request):
        if method in ("DELETE", "OPTIONS"):
            return super().get_rendered_html_form(data, view, method, request)
        return None

    def get_filter_form(self, data, view, request):
        return None
