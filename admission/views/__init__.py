"""Pages of the admission block, one module per page family."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.http import Http404

from coordination import rules


def professional_required(view):
    """Staff pages are for professionals; others get 404 (nothing to see here)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not rules.is_professional(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
