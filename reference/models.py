"""National reference data shared by the blocks: the SERAFIN-PH nomenclature (needs
and direct services) that plans, agenda events and evaluations are coded with.

Below `agenda`, `ppa` and `evaluation`, above nothing but Django: read-only once loaded.
"""

from __future__ import annotations

from django.db import models


class SerafinKind(models.TextChoices):
    NEED = "need", "Besoin"
    SERVICE = "service", "Prestation directe"


class SerafinCode(models.Model):
    """One entry of the SERAFIN-PH nomenclature (ANS value sets JDV_J285 and JDV_J284).

    Loaded by a data migration from `reference/data/serafin-ph.json`; read-only afterwards.
    """

    kind = models.CharField("nomenclature", max_length=10, choices=SerafinKind.choices)
    code = models.CharField("code", max_length=20)
    label = models.CharField("libellé", max_length=300)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="niveau supérieur",
    )
    depth = models.PositiveSmallIntegerField("niveau", default=1)

    # Lower case, without accents: code and label, for the accent-insensitive search.
    search_text = models.CharField("texte de recherche", max_length=400, blank=True, editable=False)

    class Meta:
        verbose_name = "code SERAFIN-PH"
        verbose_name_plural = "codes SERAFIN-PH"
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="serafin_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} — {self.label}"
