"""A questionnaire's definition: the data a version holds, read, checked and used.

A version's `definition` is one JSON document (kept whole, so a filled evaluation keeps
exactly the questions it was filled with):

    {"sections": [{"title": "…", "questions": [
        {"code": "q1", "text": "…", "type": "single", "required": true,
         "choices": [{"value": "0", "label": "Jamais", "score": 0}, …],
         "min": 0, "max": 4, "weight": 1, "scored": true, "help": "…",
         "show_if": {"question": "q0", "values": ["oui"]}}]}],
     "scoring": {"method": "sum" | "weighted_sum",
                 "bands": [{"min": 0, "max": 20, "label": "…", "interpretation": "…"}]},
     "needs": [{"serafin": "1.1.1.1", "description": "…",
                "when": {"question": "q1", "values": ["oui"]} | {"score_min": 41}}]}

Types: single and multiple choice, scale (an integer from min to max), number, date,
short and long text, yes/no. A question shown on a condition names an earlier question;
a hidden question is neither required nor stored. The score is the sum (or weighted sum)
of the scored questions answered: a choice's score, a scale's or number's value.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from common.validation import LONG_TEXT_MAX

SINGLE, MULTIPLE, SCALE, NUMBER, DATE, TEXT, LONG_TEXT, YES_NO = (
    "single",
    "multiple",
    "scale",
    "number",
    "date",
    "text",
    "long_text",
    "yes_no",
)
QUESTION_TYPES = {
    SINGLE: "Choix unique",
    MULTIPLE: "Choix multiple",
    SCALE: "Échelle",
    NUMBER: "Nombre",
    DATE: "Date",
    TEXT: "Texte court",
    LONG_TEXT: "Texte long",
    YES_NO: "Oui / non",
}
CHOICE_TYPES = (SINGLE, MULTIPLE)
YES_NO_CHOICES = (("oui", "Oui"), ("non", "Non"))
SHORT_TEXT_MAX = 300
SUM, WEIGHTED_SUM = "sum", "weighted_sum"
CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,39}$")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    score: Decimal | None = None


@dataclass(frozen=True)
class Condition:
    question: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    type: str
    required: bool = False
    help: str = ""
    choices: tuple[Choice, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    weight: Decimal = Decimal(1)
    scored: bool = False
    show_if: Condition | None = None

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.all_choices() if c.value == value), None)

    def all_choices(self) -> tuple[Choice, ...]:
        if self.type == YES_NO and not self.choices:
            return tuple(Choice(v, label) for v, label in YES_NO_CHOICES)
        return self.choices


@dataclass(frozen=True)
class Section:
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Band:
    min: Decimal
    max: Decimal
    label: str
    interpretation: str = ""


@dataclass(frozen=True)
class NeedRule:
    serafin: str
    description: str
    question: str = ""
    values: tuple[str, ...] = ()
    score_min: Decimal | None = None


@dataclass(frozen=True)
class Definition:
    sections: tuple[Section, ...]
    method: str = ""
    bands: tuple[Band, ...] = ()
    needs: tuple[NeedRule, ...] = ()
    questions: dict[str, Question] = field(default_factory=dict)

    @property
    def is_scored(self) -> bool:
        return bool(self.method)

    def band_for(self, score: Decimal | None) -> Band | None:
        if score is None:
            return None
        return next((b for b in self.bands if b.min <= score <= b.max), None)


# --- Reading and checking a definition -----------------------------------------------------------


def _decimal(value: Any, where: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{where} : un nombre est attendu.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(f"{where} : un nombre est attendu.") from None
    if not number.is_finite():
        raise ValidationError(f"{where} : un nombre est attendu.")
    return number


def _text(value: Any, where: str, *, required: bool = True, limit: int = SHORT_TEXT_MAX * 4) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{where} : un texte est attendu.")
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{where} : à remplir.")
    if len(value) > limit:
        raise ValidationError(f"{where} : {limit} caractères au plus.")
    return value


def _mapping(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(f"{where} : un objet est attendu.")
    return value


def _list(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(f"{where} : une liste est attendue.")
    return value


def _condition(raw: Any, where: str, earlier: dict[str, Question]) -> Condition | None:
    if not raw:
        return None
    raw = _mapping(raw, where)
    code = raw.get("question")
    if code not in earlier:
        raise ValidationError(f"{where} : la condition doit porter sur une question précédente.")
    target = earlier[code]
    values = tuple(str(v) for v in _list(raw.get("values"), where))
    if not values:
        raise ValidationError(f"{where} : la condition doit donner au moins une réponse.")
    known = {c.value for c in target.all_choices()}
    if known and not set(values) <= known:
        raise ValidationError(f"{where} : la condition cite une réponse que la question « {code} » n'a pas.")
    return Condition(code, values)


def _question(raw: Any, where: str, earlier: dict[str, Question]) -> Question:
    raw = _mapping(raw, where)
    code = raw.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise ValidationError(f"{where} : code de question invalide (lettres, chiffres, « _ », « . », « - »).")
    where = f"Question « {code} »"
    if code in earlier:
        raise ValidationError(f"{where} : ce code est déjà pris.")
    kind = raw.get("type")
    if kind not in QUESTION_TYPES:
        raise ValidationError(f"{where} : type inconnu.")
    choices = []
    for index, item in enumerate(_list(raw.get("choices"), where), start=1):
        item = _mapping(item, f"{where}, choix {index}")
        value = item.get("value")
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise ValidationError(f"{where}, choix {index} : valeur manquante.")
        choices.append(
            Choice(
                str(value).strip(),
                _text(item.get("label"), f"{where}, choix {index}"),
                _decimal(item.get("score"), f"{where}, choix {index}"),
            )
        )
    if len({c.value for c in choices}) != len(choices):
        raise ValidationError(f"{where} : deux choix ont la même valeur.")
    if kind in CHOICE_TYPES and not choices:
        raise ValidationError(f"{where} : donnez les choix possibles.")
    if kind == YES_NO and choices and {c.value for c in choices} != {"oui", "non"}:
        raise ValidationError(f"{where} : les valeurs d'un oui / non sont « oui » et « non ».")
    low, high = _decimal(raw.get("min"), where), _decimal(raw.get("max"), where)
    if kind == SCALE and (low is None or high is None):
        raise ValidationError(f"{where} : une échelle a un minimum et un maximum.")
    if low is not None and high is not None and low > high:
        raise ValidationError(f"{where} : le minimum dépasse le maximum.")
    weight = _decimal(raw.get("weight"), where)
    scored = bool(raw.get("scored", False))
    if scored and kind in (DATE, TEXT, LONG_TEXT):
        raise ValidationError(f"{where} : une date ou un texte ne compte pas dans un score.")
    return Question(
        code=code,
        text=_text(raw.get("text"), where, limit=1000),
        type=kind,
        required=bool(raw.get("required", False)),
        help=_text(raw.get("help"), where, required=False, limit=1000),
        choices=tuple(choices),
        min=low,
        max=high,
        weight=Decimal(1) if weight is None else weight,
        scored=scored,
        show_if=_condition(raw.get("show_if"), where, earlier),
    )


def parse(raw: Any, *, partial: bool = False) -> Definition:
    """Read and check a definition; a ValidationError in French names what is wrong.
    `partial`: a draft being built may have no question yet."""
    raw = _mapping(raw, "Définition")
    questions: dict[str, Question] = {}
    sections = []
    raw_sections = _list(raw.get("sections"), "Sections")
    if not raw_sections and not partial:
        raise ValidationError("Un questionnaire a au moins une partie.")
    for s_index, raw_section in enumerate(raw_sections, start=1):
        raw_section = _mapping(raw_section, f"Partie {s_index}")
        items = []
        for q_index, raw_question in enumerate(_list(raw_section.get("questions"), f"Partie {s_index}"), start=1):
            question = _question(raw_question, f"Partie {s_index}, question {q_index}", questions)
            questions[question.code] = question
            items.append(question)
        sections.append(Section(_text(raw_section.get("title"), f"Partie {s_index}"), tuple(items)))
    if not questions and not partial:
        raise ValidationError("Un questionnaire a au moins une question.")
    scoring = _mapping(raw.get("scoring") or {}, "Score")
    method = scoring.get("method") or ""
    if method not in ("", SUM, WEIGHTED_SUM):
        raise ValidationError("Score : méthode inconnue (somme ou somme pondérée).")
    if method and not partial and not any(q.scored for q in questions.values()):
        raise ValidationError("Score : aucune question ne compte dans le score.")
    bands = []
    for index, item in enumerate(_list(scoring.get("bands"), "Score"), start=1):
        item = _mapping(item, f"Score, tranche {index}")
        low = _decimal(item.get("min"), f"Score, tranche {index}")
        high = _decimal(item.get("max"), f"Score, tranche {index}")
        if low is None or high is None or low > high:
            raise ValidationError(f"Score, tranche {index} : bornes invalides.")
        bands.append(
            Band(
                low,
                high,
                _text(item.get("label"), f"Score, tranche {index}"),
                _text(item.get("interpretation"), f"Score, tranche {index}", required=False, limit=2000),
            )
        )
    ordered = sorted(bands, key=lambda b: b.min)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if after.min <= before.max:
            raise ValidationError(f"Score : les tranches « {before.label} » et « {after.label} » se chevauchent.")
    needs = []
    for index, item in enumerate(_list(raw.get("needs"), "Besoins"), start=1):
        where = f"Besoins, règle {index}"
        item = _mapping(item, where)
        when = _mapping(item.get("when") or {}, where)
        rule = NeedRule(
            serafin=_text(item.get("serafin"), where, limit=20),
            description=_text(item.get("description"), where, limit=2000),
            question=str(when.get("question") or ""),
            values=tuple(str(v) for v in _list(when.get("values"), where)),
            score_min=_decimal(when.get("score_min"), where),
        )
        if rule.question and rule.question not in questions:
            raise ValidationError(f"{where} : la question « {rule.question} » n'existe pas.")
        if not rule.question and rule.score_min is None:
            raise ValidationError(f"{where} : dites quand proposer ce besoin (une réponse ou un score).")
        if rule.score_min is not None and not method:
            raise ValidationError(f"{where} : ce questionnaire n'a pas de score.")
        needs.append(rule)
    return Definition(tuple(sections), method, tuple(ordered), tuple(needs), questions)


# --- Answers --------------------------------------------------------------------------------------


@dataclass
class Result:
    answers: dict[str, Any]  # code → stored value (visible questions answered only)
    score: Decimal | None
    band: Band | None


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]


def _is_visible(question: Question, answers: dict[str, Any], visible: set[str]) -> bool:
    condition = question.show_if
    if condition is None:
        return True
    if condition.question not in visible:
        return False
    return bool(set(_as_list(answers.get(condition.question))) & set(condition.values))


def _clean(question: Question, value: Any) -> Any:
    """The stored form of one answer, or a ValidationError naming the question."""
    name = f"« {question.text} »"
    if question.type in (SINGLE, YES_NO):
        if isinstance(value, list | dict):
            raise ValidationError(f"{name} : choisissez une seule réponse.")
        value = str(value).strip()
        if question.choice(value) is None:
            raise ValidationError(f"{name} : cette réponse n'est pas proposée.")
        return value
    if question.type == MULTIPLE:
        values = _as_list(value)
        if any(question.choice(v) is None for v in values):
            raise ValidationError(f"{name} : une réponse n'est pas proposée.")
        return sorted(set(values), key=[c.value for c in question.choices].index)
    if question.type in (SCALE, NUMBER):
        if isinstance(value, bool | list | dict):
            raise ValidationError(f"{name} : un nombre est attendu.")
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            raise ValidationError(f"{name} : un nombre est attendu.") from None
        if not number.is_finite() or abs(number) >= Decimal("1e12"):
            raise ValidationError(f"{name} : un nombre est attendu.")
        if question.type == SCALE and number != number.to_integral_value():
            raise ValidationError(f"{name} : un nombre entier est attendu.")
        if question.min is not None and number < question.min:
            raise ValidationError(f"{name} : la valeur doit être au moins {question.min}.")
        if question.max is not None and number > question.max:
            raise ValidationError(f"{name} : la valeur doit être au plus {question.max}.")
        return int(number) if number == number.to_integral_value() else str(number.normalize())
    if question.type == DATE:
        try:
            day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(f"{name} : une date est attendue (AAAA-MM-JJ).") from None
        if not datetime.date(1900, 1, 1) <= day <= datetime.date(2100, 12, 31):
            raise ValidationError(f"{name} : la date doit être entre 1900 et 2100.")
        return day.isoformat()
    if not isinstance(value, str | int | Decimal) or isinstance(value, bool):
        raise ValidationError(f"{name} : un texte est attendu.")
    text = str(value).strip()
    limit = SHORT_TEXT_MAX if question.type == TEXT else LONG_TEXT_MAX
    if len(text) > limit:
        raise ValidationError(f"{name} : {limit} caractères au plus.")
    return text


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())


def item_score(question: Question, value: Any) -> Decimal | None:
    if not question.scored or _is_empty(value):
        return None
    if question.type in (SINGLE, YES_NO):
        choice = question.choice(str(value))
        return choice.score if choice else None
    if question.type == MULTIPLE:
        scores = [c.score for v in _as_list(value) if (c := question.choice(v)) and c.score is not None]
        return sum(scores, Decimal(0)) if scores else None
    return Decimal(str(value))


def evaluate(definition: Definition, raw_answers: dict[str, Any], *, check_required: bool = True) -> Result:
    """Check the answers against the definition; keep those of visible questions only.

    A ValidationError maps each question's code to a French message naming the question
    (out of range, not proposed, missing while required). Nothing is kept of a hidden
    question. The score counts the scored questions answered; a scored questionnaire with
    a scored question left unanswered has no score (a partial total would mislead)."""
    if not isinstance(raw_answers, dict):
        raise ValidationError("Les réponses sont attendues question par question.")
    unknown = set(raw_answers) - set(definition.questions)
    if unknown:
        raise ValidationError(f"Question inconnue : {', '.join(sorted(map(str, unknown)))[:200]}.")
    answers: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    visible: set[str] = set()
    for section in definition.sections:
        for question in section.questions:
            if not _is_visible(question, answers, visible):
                continue
            visible.add(question.code)
            value = raw_answers.get(question.code)
            if _is_empty(value):
                if check_required and question.required:
                    errors[question.code] = [f"« {question.text} » : une réponse est obligatoire."]
                continue
            try:
                answers[question.code] = _clean(question, value)
            except ValidationError as error:
                errors[question.code] = error.messages
    if errors:
        raise ValidationError(errors)
    score = None
    if definition.is_scored:
        scored = [q for q in definition.questions.values() if q.scored and q.code in visible]
        items = [item_score(q, answers.get(q.code)) for q in scored]
        present = [item for item in items if item is not None]
        if items and len(present) == len(items):
            weighted = definition.method == WEIGHTED_SUM
            score = sum(
                ((item * q.weight) if weighted else item for q, item in zip(scored, present, strict=True)),
                Decimal(0),
            )
    return Result(answers, score, definition.band_for(score))


def proposed_needs(definition: Definition, answers: dict[str, Any], score: Decimal | None) -> list[NeedRule]:
    """The mapping rules an evaluation meets (each proposes one SERAFIN-PH need)."""
    met = []
    for rule in definition.needs:
        if rule.question:
            if not set(_as_list(answers.get(rule.question))) & set(rule.values):
                continue
        if rule.score_min is not None and (score is None or score < rule.score_min):
            continue
        met.append(rule)
    return met


def answer_label(question: Question, value: Any) -> str:
    """An answer as a person reads it."""
    if _is_empty(value):
        return ""
    if question.type in (SINGLE, YES_NO, MULTIPLE):
        labels = []
        for v in _as_list(value):
            choice = question.choice(v)
            labels.append(choice.label if choice else v)
        return ", ".join(labels)
    if question.type == DATE:
        try:
            return datetime.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    return str(value)
