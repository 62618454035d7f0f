"""National identifiers: INS matricule (NIR/NIA), RPPS, FINESS (see shared INTEROP.md).

Each validator raises a French ValidationError naming the field, so forms and the API
give the same message.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

INS_OIDS = {
    "1.2.250.1.213.1.4.8": "INS-NIR",
    "1.2.250.1.213.1.4.9": "INS-NIA",
    "1.2.250.1.213.1.4.10": "INS-NIR de test",
    "1.2.250.1.213.1.4.11": "INS-NIR de démonstration",
}

_INS_RE = re.compile(r"^[12378][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}[0-9]{2}$", re.IGNORECASE)


def ins_key(first13: str) -> int:
    """Key of the first 13 characters: 97 − (number mod 97); Corsica 2A → 19, 2B → 18."""
    department = first13[5:7].upper()
    corsica = {"2A": "19", "2B": "18"}
    if department in corsica:
        first13 = first13[:5] + corsica[department] + first13[7:]
    return 97 - (int(first13) % 97)


def normalize_ins(value: str) -> str:
    return re.sub(r"[\s.-]", "", value or "").upper()


def validate_ins_matricule(value: str) -> None:
    matricule = normalize_ins(value)
    if not _INS_RE.match(matricule):
        raise ValidationError(
            "Matricule INS invalide : 15 caractères attendus "
            "(13 chiffres, 2A ou 2B pour la Corse, puis la clé à 2 chiffres).",
            code="ins_format",
        )
    if ins_key(matricule[:13]) != int(matricule[13:]):
        raise ValidationError("Matricule INS invalide : la clé de contrôle ne correspond pas.", code="ins_key")


def validate_rpps(value: str) -> None:
    if not re.fullmatch(r"[0-9]{11}", value or ""):
        raise ValidationError("Numéro RPPS invalide : 11 chiffres attendus.", code="rpps_format")


def validate_finess(value: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9]{9}", value or ""):
        raise ValidationError(
            "Numéro FINESS invalide : 9 caractères (chiffres ou lettres) attendus.", code="finess_format"
        )


def validate_insee_place(value: str) -> None:
    if not re.fullmatch(r"(?:[0-9]{5}|2[AB][0-9]{3})", (value or "").upper()):
        raise ValidationError(
            "Code INSEE du lieu de naissance invalide : 5 caractères (99xxx pour une naissance à l'étranger).",
            code="insee_format",
        )
