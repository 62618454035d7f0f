"""Reads of the reference data."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from reference.models import SerafinCode
from reference.text import fold

CODE = re.compile(r"^\d+(\.\d+)*$")


def serafin_search(query: str, kind: str | None = None) -> QuerySet[SerafinCode]:
    """Codes whose code or label contains every word of `query`, accents and case ignored."""
    queryset = SerafinCode.objects.select_related("parent")
    if kind:
        queryset = queryset.filter(kind=kind)
    for word in fold(query).split():
        if CODE.match(word):
            # A code finds itself and what lies under it: 1.1.1 finds 1.1.1.2, not 1.1.10.
            queryset = queryset.filter(Q(code=word) | Q(code__startswith=f"{word}."))
        else:
            queryset = queryset.filter(search_text__contains=word)
    return queryset.order_by("kind", "code")
