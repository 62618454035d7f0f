"""Reads of the evaluation block. The caller has passed the gate (category
`evaluation`) for the person; these build the querysets and what the pages show."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from common.notify import Summary
from coordination import rules
from coordination.models import Person
from evaluation.definition import answer_label
from evaluation.models import (
    Evaluation,
    Questionnaire,
    QuestionnaireKind,
    QuestionnaireVersion,
    Referral,
    VersionStatus,
)


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


def satisfaction_questionnaires(structure) -> QuerySet[Questionnaire]:
    """Satisfaction questionnaires a structure may send: the shipped ones and its own."""
    return (
        Questionnaire.objects.filter(kind=QuestionnaireKind.SATISFACTION, is_active=True)
        .filter(Q(structure__isnull=True) | Q(structure=structure))
        .filter(Exists(published_versions().filter(questionnaire=OuterRef("pk"))))
        .order_by("title")
    )


def pending_invitations(user):
    """Satisfaction questionnaires waiting for the user's answer, still open."""
    from django.utils import timezone

    from evaluation.models import SatisfactionInvitation

    return (
        SatisfactionInvitation.objects.filter(
            user=user, answered_at__isnull=True, campaign__closes_on__gte=timezone.localdate()
        )
        .select_related("campaign__structure")
        .order_by("campaign__closes_on")
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


def referral_rows(referral) -> list[AnswerRow]:
    """A referral's answers, question by question (its own version's questions)."""
    definition = referral.version.parsed
    return [
        AnswerRow(section.title, question.text, answer_label(question, referral.answers.get(question.code)))
        for section in definition.sections
        for question in section.questions
        if question.code in referral.answers
    ]


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
    right: int  # x of the plot's right edge

    @property
    def plot_width(self) -> int:
        return self.right - self.left


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
    # Room on the right for the last date's label, centred on its point.
    left, right, top, bottom = 48, 44, 12, height - 36
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
        right=width - right,
    )


# --- Satisfaction results ------------------------------------------------------------------------


@dataclass
class QuestionResult:
    text: str
    type: str
    answered: int
    counts: list[tuple[str, int]]  # choice label → how many chose it
    average: Decimal | None
    texts: list[str]


@dataclass
class CampaignResults:
    invited: int
    answered: int
    shown: bool  # False below the threshold: nothing but the counts
    questions: list[QuestionResult]


def campaign_results(campaign, threshold: int) -> CampaignResults:
    """Aggregated answers, never per respondent: counts per choice, averages of scales
    and numbers, free texts in alphabetical order (not the order they came in) and without
    names. Below `threshold` answers, only how many were invited and answered."""
    from evaluation.definition import CHOICE_TYPES, DATE, LONG_TEXT, NUMBER, SCALE, TEXT, YES_NO

    invited = campaign.invitations.count()
    answers = list(campaign.responses.values_list("answers", flat=True))
    if len(answers) < threshold:
        return CampaignResults(invited, len(answers), False, [])
    definition = campaign.version.parsed
    questions = []
    for question in definition.questions.values():
        values = [a[question.code] for a in answers if question.code in a]
        counts, average, texts = [], None, []
        if question.type in (*CHOICE_TYPES, YES_NO):
            flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
            counts = [(c.label, flat.count(c.value)) for c in question.all_choices()]
        elif question.type in (SCALE, NUMBER) and values:
            average = (sum(Decimal(str(v)) for v in values) / len(values)).quantize(Decimal("0.1"))
        elif question.type in (TEXT, LONG_TEXT):
            texts = sorted(str(v) for v in values if str(v).strip())
        elif question.type == DATE:
            pass
        questions.append(QuestionResult(question.text, question.type, len(values), counts, average, texts))
    return CampaignResults(invited, len(answers), True, questions)


def referral_summaries(user, ids: list[int]) -> dict[int, Summary]:
    """The notification centre's summary of referrals received by a structure of `user`'s
    team (who reads its queue): who sent it, with what urgency, which form. The person is
    not named (the queue's page names them)."""
    teams = rules.team_memberships_in_force(user).values("structure_id")
    rows = Referral.objects.filter(pk__in=ids, structure__in=teams).select_related(
        "sent_by", "structure", "version__questionnaire"
    )
    return {
        r.pk: Summary(
            excerpt=f"{r.version.questionnaire.title}, pour {r.structure.name}",
            author=r.sent_by.get_full_name() or r.sent_by.email,
            kind=f"Urgence : {r.get_urgency_display().lower()}",
        )
        for r in rows
    }
