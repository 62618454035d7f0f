"""The gate's "admission" scope: a structure that received an admission request reads
its file (identity and documents) while the request is open, within its access period.
Registered with `coordination.access.register_scope`; each read is logged by the gate."""

from __future__ import annotations

from admission.models import AdmissionCopy
from admission.selectors import file_is_open_to
from coordination import access
from coordination.models import Category

SCOPE = "admission"
SCOPED_CATEGORIES = frozenset({Category.RECORD, Category.DOCUMENTS})


def _allows(user, person_id: int, category: str, key: str) -> bool:
    if category not in SCOPED_CATEGORIES or not key.isdigit():
        return False
    copy = AdmissionCopy.objects.filter(pk=int(key), request__person_id=person_id).first()
    return copy is not None and file_is_open_to(user, copy)


access.register_scope(SCOPE, _allows)
