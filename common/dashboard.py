"""What a dashboard section is: a count and the first items of a list.

Each block's selectors build the querysets of the professional's day (the gate's
querysets inside); `section` turns one into what a page shows, in two queries whatever
the size of the list: a count bounded at `COUNT_CAP` (shown as "99+" beyond, so that a
large caseload never costs a full count) and the first `size` items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

COUNT_CAP = 100
FIRST_ITEMS = 5


@dataclass
class Section:
    count: int
    items: list = field(default_factory=list)

    @property
    def is_capped(self) -> bool:
        return self.count >= COUNT_CAP

    @property
    def count_display(self) -> str:
        return f"{COUNT_CAP - 1}+" if self.is_capped else str(self.count)

    @property
    def more(self) -> int:
        """How many items are not shown (for "et N autres")."""
        return max(self.count - len(self.items), 0)


def section(queryset: QuerySet, size: int = FIRST_ITEMS) -> Section:
    """The count (up to COUNT_CAP) and the first `size` items of an ordered queryset."""
    items = list(queryset[:size])
    # Always counted (two queries whatever the list holds: the page's cost does not
    # depend on the caseload). Unordered and bounded: the database stops at the cap instead of sorting everything.
    return Section(queryset.order_by()[:COUNT_CAP].count(), items)
