"""Reads of the evaluation block. The caller has passed the gate (category
`evaluation`) for the person; these build the querysets and what the pages show."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from coordination import rules
from coordination.models import Person
from evaluation.definition import answer_label
from evaluation.models import Evaluation, Questionnaire, QuestionnaireKind, QuestionnaireVersion, VersionStatus


def published_versions() -> QuerySet[QuestionnaireVersion]:
    return QuestionnaireVersion.objects.filter(status=VersionStatus.PUBLISHED)


def available_questionnaires(person: Person, kind: str = QuestionnaireKind.EVALUATION) -> QuerySet[Questionnaire]:
    """Instruments a professional may fill for the person: the shipped ones and those of
    the structures accompanying the person, active and with a published version."""
    return (
        Questionnaire.objects.filter(kind=kind, is_active=True)
        .filter(Q(structure__isnull=True) | Q(structure__in=rules.accompanying_structures(person)))
        .filter(Exists(published_versions().filter(questionnaire=OuterRef("pk"))))
        .order_by("title")
    )


def evaluations_of(person: Person) -> QuerySet[Evaluation]:
    """The person's evaluations in force (a corrected one gives way to its correction)."""
    return (
        Evaluation.objects.filter(person=person)
        .exclude(Exists(Evaluation.objects.filter(corrects=OuterRef("pk"))))
        .select_related("version__questionnaire", "author", "respondent_carer__user", "author_structure")
        .order_by("-evaluated_on", "-created_at")
    )


def history(person: Person, questionnaire: Questionnaire) -> list[Evaluation]:
    """The person's evaluations with one instrument, oldest first (every version)."""
    return list(evaluations_of(person).filter(version__questionnaire=questionnaire).order_by("evaluated_on", "pk"))


@dataclass
class AnswerRow:
    section: str
    text: str
    answer: str


def answer_rows(evaluation: Evaluation) -> list[AnswerRow]:
    """The questions of the evaluation's own version, with the answers given."""
    definition = evaluation.version.parsed
    rows = []
    for section in definition.sections:
        for question in section.questions:
            rows.append(
                AnswerRow(section.title, question.text, answer_label(question, evaluation.answers.get(question.code)))
            )
    return rows


@dataclass
class CompareRow:
    section: str
    text: str
    left: str
    right: str

    @property
    def differs(self) -> bool:
        return self.left != self.right


def compare(left: Evaluation, right: Evaluation) -> list[CompareRow]:
    """Two evaluations side by side, question by question. Questions of both versions,
    in the newer version's order, then those only the older one had."""
    newer, older = (
        (right, left) if (right.version.number, right.pk) >= (left.version.number, left.pk) else (left, right)
    )
    rows: list[CompareRow] = []
    seen = set()
    for source in (newer, older):
        for section in source.version.parsed.sections:
            for question in section.questions:
                if question.code in seen:
                    continue
                seen.add(question.code)
                values = []
                for evaluation in (left, right):
                    own = evaluation.version.parsed.questions.get(question.code)
                    values.append(answer_label(own, evaluation.answers.get(question.code)) if own else "—")
                rows.append(CompareRow(section.title, question.text, values[0], values[1]))
    return rows


# --- The chart of scores over time (server-rendered SVG) ---------------------------------------


@dataclass
class ChartPoint:
    x: float
    y: float
    label: str
    score: Decimal


@dataclass
class Chart:
    width: int
    height: int
    points: list[ChartPoint]
    polyline: str
    y_ticks: list[tuple[float, str]]
    bands: list[tuple[float, float, str]]  # y of the band's top, its height, its label
    left: int
    bottom: int


def score_chart(evaluations: list[Evaluation], *, width: int = 640, height: int = 240) -> Chart | None:
    """Scores over time as SVG coordinates: evenly spaced by date order (a few points a
    year; exact spacing would crowd them), y from the instrument's lowest to highest band."""
    scored = [e for e in evaluations if e.score is not None]
    if not scored:
        return None
    definition = scored[-1].version.parsed
    low = min([b.min for b in definition.bands] + [e.score for e in scored])
    high = max([b.max for b in definition.bands] + [e.score for e in scored])
    if high == low:
        high = low + 1
    left, right, top, bottom = 48, 16, 12, height - 36
    span = float(high - low)

    def y_of(value) -> float:
        return round(bottom - (float(value - low) / span) * (bottom - top), 1)

    step = (width - left - right) / max(1, len(scored) - 1)
    points = [
        ChartPoint(
            x=round(left + (i * step if len(scored) > 1 else (width - left - right) / 2), 1),
            y=y_of(e.score),
            label=f"{e.evaluated_on:%d/%m/%Y}",
            score=e.score.normalize(),
        )
        for i, e in enumerate(scored)
    ]
    bands = [(y_of(b.max), round(y_of(b.min) - y_of(b.max), 1), b.label) for b in definition.bands]
    ticks = sorted({low, high, *(b.min for b in definition.bands)})
    return Chart(
        width=width,
        height=height,
        points=points,
        polyline=" ".join(f"{p.x},{p.y}" for p in points),
        y_ticks=[(y_of(t), f"{t.normalize()}") for t in ticks],
        bands=bands,
        left=left,
        bottom=bottom,
    )
