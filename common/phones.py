"""Mobile phone numbers for SMS: parsed with `phonenumbers` (Google's libphonenumber
data), stored and sent in E.164 (+33612345678), French mobiles only (metropolitan France
and the overseas departments and collectivities with French numbering)."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError

FRENCH_REGIONS = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"})
MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})
INVALID_MOBILE = (
    "Numéro de portable invalide : indiquez un numéro de mobile français, par exemple 06 12 34 56 78 "
    "ou +33 6 12 34 56 78."
)


def french_mobile_e164(value: str) -> str:
    """The number in E.164, or a French ValidationError when it is not a French mobile."""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        raise ValidationError(INVALID_MOBILE, code="invalid_mobile") from None
    if (
        not phonenumbers.is_valid_number(number)
        or phonenumbers.region_code_for_number(number) not in FRENCH_REGIONS
        or phonenumbers.number_type(number) not in MOBILE_TYPES
    ):
        raise ValidationError(INVALID_MOBILE, code="invalid_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_french_mobile(value: str) -> None:
    if value:
        french_mobile_e164(value)
