"""Bounds of what users type, shared by the forms (`common.forms`) and the API's input
serializers (`common.api.InputSerializer`): every text has a maximum length (a field's own,
or LONG_TEXT_MAX), every date lies between EARLIEST_DATE and LATEST_DATE. Fields with a
narrower rule (an observation not in the future…) keep it; these bounds only stop what no
rule foresaw (a year 0001 or 9999, a 3 MB note)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# The longest free text: a transmission, a section of a plan (about eight pages).
LONG_TEXT_MAX = 20_000
# No person accompanied today was born, and nothing recorded happened, before 1900; no
# appointment, plan or delegation is set beyond 2100.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


@deconstructible
class DateInRange:
    """Refuses a date (or the local date of a datetime) outside EARLIEST_DATE–LATEST_DATE."""

    message = "Indiquez une date entre 1900 et 2100."

    def __call__(self, value) -> None:
        if value is None:
            return
        day = value.date() if isinstance(value, dt.datetime) else value
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            raise ValidationError(self.message, code="date_range")

    def __eq__(self, other) -> bool:
        return isinstance(other, DateInRange)


date_in_range = DateInRange()
