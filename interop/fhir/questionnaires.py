"""Questionnaires and evaluations in the FHIR facade (R4): each published version of a
questionnaire is a `Questionnaire` (id: the version's id), each evaluation a
`QuestionnaireResponse`. A connected software (an interRAI-HC tool, for one) creates
evaluations by POSTing a QuestionnaireResponse: the same gate, the same checks of the
answers and the same service as the pages (`evaluation.services.evaluation_create`).

Mapping of the question types: single choice → `choice` (answerOption valueCoding, the
points as the `ordinalValue` extension), multiple → `choice` repeats, scale → `integer`
(minValue/maxValue extensions), number → `decimal`, date → `date`, short text →
`string`, long text → `text`, yes/no → `choice` on oui/non. A condition → `enableWhen`
(operator `=`, behaviour `any`). The score and its band are extensions of the response.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404

from coordination import access
from coordination.models import CarerLink, Category
from evaluation import definition as d
from evaluation import selectors, services
from evaluation.models import Evaluation, QuestionnaireKind, QuestionnaireVersion, VersionStatus
from interop.fhir import codes
from interop.fhir.common import FhirError, Query, Source, day, instant, invalid, not_found, page, prune, reference
from interop.fhir.handlers import Context, Handler, Result, _ids, _int, patient_of

ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
TYPES = {
    d.SINGLE: "choice",
    d.MULTIPLE: "choice",
    d.YES_NO: "choice",
    d.SCALE: "integer",
    d.NUMBER: "decimal",
    d.DATE: "date",
    d.TEXT: "string",
    d.LONG_TEXT: "text",
}


def canonical(version: QuestionnaireVersion) -> str:
    return f"{codes.base_url()}/Questionnaire/{version.pk}"


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _item(question: d.Question, choices_system: str) -> dict:
    item: dict[str, Any] = {
        "linkId": question.code,
        "text": question.text,
        "type": TYPES[question.type],
        "required": question.required or None,
        "repeats": True if question.type == d.MULTIPLE else None,
    }
    if question.type in (d.SINGLE, d.MULTIPLE, d.YES_NO):
        item["answerOption"] = [
            prune(
                {
                    "valueCoding": {"system": choices_system, "code": c.value, "display": c.label},
                    "extension": [{"url": ORDINAL, "valueDecimal": _number(c.score)}] if c.score is not None else None,
                }
            )
            for c in question.all_choices()
        ]
    extensions = []
    for url, bound in ((MIN_VALUE, question.min), (MAX_VALUE, question.max)):
        if bound is not None and question.type in (d.SCALE, d.NUMBER):
            key = "valueInteger" if question.type == d.SCALE else "valueDecimal"
            extensions.append({"url": url, key: _number(bound)})
    if extensions:
        item["extension"] = extensions
    if question.show_if is not None:
        item["enableWhen"] = [
            {
                "question": question.show_if.question,
                "operator": "=",
                "answerCoding": {"system": choices_system, "code": v},
            }
            for v in question.show_if.values
        ]
        item["enableBehavior"] = "any"
    return prune(item)


def questionnaire(version: QuestionnaireVersion) -> dict:
    parsed = version.parsed
    system = f"{canonical(version)}/reponses"
    return prune(
        {
            "resourceType": "Questionnaire",
            "id": str(version.pk),
            "url": canonical(version),
            "version": str(version.number),
            "name": version.questionnaire.code.replace("-", "_"),
            "title": version.questionnaire.title,
            "status": "active" if version.status == VersionStatus.PUBLISHED else "draft",
            "date": instant(version.published_at),
            "description": version.questionnaire.description or None,
            "copyright": version.questionnaire.source or None,
            "subjectType": ["Patient"],
            "item": [
                {
                    "linkId": f"partie-{index}",
                    "text": section.title,
                    "type": "group",
                    "item": [_item(q, system) for q in section.questions],
                }
                for index, section in enumerate(parsed.sections, start=1)
            ],
        }
    )


def _answer(question: d.Question, value: Any, system: str) -> list[dict]:
    values = value if isinstance(value, list) else [value]
    if question.type in (d.SINGLE, d.MULTIPLE, d.YES_NO):
        return [
            {"valueCoding": prune({"system": system, "code": str(v), "display": d.answer_label(question, v)})}
            for v in values
        ]
    if question.type == d.SCALE:
        return [{"valueInteger": int(v)} for v in values]
    if question.type == d.NUMBER:
        return [{"valueDecimal": _number(Decimal(str(v)))} for v in values]
    if question.type == d.DATE:
        return [{"valueDate": str(v)} for v in values]
    return [{"valueString": str(v)} for v in values]


def questionnaire_response(evaluation: Evaluation) -> dict:
    version = evaluation.version
    parsed = version.parsed
    system = f"{canonical(version)}/reponses"
    extensions = []
    if evaluation.score is not None:
        extensions.append({"url": codes.local_extension("score"), "valueDecimal": _number(evaluation.score)})
    if evaluation.band_label:
        extensions.append({"url": codes.local_extension("resultat"), "valueString": evaluation.band_label})
    return prune(
        {
            "resourceType": "QuestionnaireResponse",
            "id": str(evaluation.pk),
            "extension": extensions or None,
            "questionnaire": f"{canonical(version)}|{version.number}",
            "status": "completed",
            "subject": reference("Patient", evaluation.person_id),
            "authored": day(evaluation.evaluated_on),
            "author": reference("Practitioner", evaluation.author.professional.pk)
            if evaluation.author_id and hasattr(evaluation.author, "professional")
            else None,
            "source": reference("RelatedPerson", evaluation.respondent_carer_id)
            if evaluation.respondent_carer_id
            else None,
            "item": [
                {
                    "linkId": f"partie-{index}",
                    "text": section.title,
                    "item": [
                        {"linkId": q.code, "text": q.text, "answer": _answer(q, evaluation.answers[q.code], system)}
                        for q in section.questions
                        if q.code in evaluation.answers
                    ],
                }
                for index, section in enumerate(parsed.sections, start=1)
                if any(q.code in evaluation.answers for q in section.questions)
            ]
            or None,
        }
    )


# --- Reads and searches -------------------------------------------------------------------------


def _versions():
    return QuestionnaireVersion.objects.filter(
        status=VersionStatus.PUBLISHED, questionnaire__kind=QuestionnaireKind.EVALUATION, questionnaire__is_active=True
    ).select_related("questionnaire")


def read_questionnaire(ctx: Context, resource_id: str) -> dict:
    version = _versions().filter(pk=_int(resource_id, "Questionnaire")).first()
    if version is None:
        raise not_found("Questionnaire")
    return questionnaire(version)


def search_questionnaire(ctx: Context, query: Query) -> Result:
    versions = _versions()
    ids = query.tokens("_id")
    if ids:
        versions = versions.filter(pk__in=_ids(ids))
    name = query.one("name")
    if name:
        versions = versions.filter(questionnaire__code=name.replace("_", "-"))
    items, cursor = page([Source(versions, "pk")], query.request.GET.get("_cursor"), query.count)
    return Result([questionnaire(v) for _i, v in items], cursor)


def _evaluations():
    return Evaluation.objects.select_related("version__questionnaire", "author__professional")


def read_questionnaire_response(ctx: Context, resource_id: str) -> dict:
    evaluation = _evaluations().filter(pk=_int(resource_id, "QuestionnaireResponse")).first()
    if evaluation is None:
        raise not_found("QuestionnaireResponse")
    ctx.gate(evaluation.person_id, Category.EVALUATION)
    return questionnaire_response(evaluation)


def search_questionnaire_response(ctx: Context, query: Query) -> Result:
    person = patient_of(ctx, query, Category.EVALUATION)
    evaluations = selectors.evaluations_of(person).select_related("author__professional")
    ids = query.tokens("_id")
    if ids:
        evaluations = evaluations.filter(pk__in=_ids(ids))
    wanted = query.values("questionnaire")
    if wanted:
        version_ids = [v.split("|")[0].rstrip("/").rsplit("/", 1)[-1] for v in wanted]
        evaluations = evaluations.filter(version_id__in=[int(v) for v in version_ids if v.isdigit() and len(v) < 18])
    items, cursor = page([Source(evaluations, "pk")], query.request.GET.get("_cursor"), query.count)
    return Result([questionnaire_response(e) for _i, e in items], cursor)


# --- Create (a connected software's evaluation) ------------------------------------------------


def _version_from(resource: dict) -> QuestionnaireVersion:
    value = resource.get("questionnaire")
    if not isinstance(value, str) or not value:
        raise invalid("QuestionnaireResponse.questionnaire", "la référence du questionnaire est obligatoire.")
    tail = value.split("|")[0].rstrip("/").rsplit("/", 1)[-1]
    version = _versions().filter(pk=int(tail)).first() if tail.isdigit() and len(tail) < 18 else None
    if version is None:
        raise invalid("QuestionnaireResponse.questionnaire", "questionnaire inconnu ou non publié.")
    return version


def _values(answer: list, expression: str) -> list:
    values = []
    for index, item in enumerate(answer):
        if not isinstance(item, dict):
            raise invalid(f"{expression}.answer[{index}]", "une réponse est attendue.")
        keys = [k for k in item if k.startswith("value")]
        if len(keys) != 1:
            raise invalid(f"{expression}.answer[{index}]", "une seule valeur value[x] est attendue.")
        value = item[keys[0]]
        values.append(value.get("code") if keys[0] == "valueCoding" and isinstance(value, dict) else value)
    return values


def _answers(resource: dict, parsed: d.Definition) -> dict[str, Any]:
    answers: dict[str, Any] = {}

    def walk(items, path: str) -> None:
        if not isinstance(items, list):
            raise invalid(path, "une liste est attendue.")
        for index, item in enumerate(items):
            expression = f"{path}[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("linkId"), str):
                raise invalid(f"{expression}.linkId", "valeur obligatoire.")
            if "item" in item:
                walk(item["item"], f"{expression}.item")
            if "answer" not in item:
                continue
            question = parsed.questions.get(item["linkId"])
            if question is None:
                raise invalid(f"{expression}.linkId", f"question inconnue : {item['linkId'][:60]}.")
            if not isinstance(item["answer"], list):
                raise invalid(f"{expression}.answer", "une liste est attendue.")
            values = _values(item["answer"], expression)
            answers[question.code] = values if question.type == d.MULTIPLE else (values[0] if values else None)

    walk(resource.get("item", []), "QuestionnaireResponse.item")
    return answers


def create_questionnaire_response(ctx: Context, resource: Any) -> Evaluation:
    """Record an evaluation sent by a connected software, with the pages' checks."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "QuestionnaireResponse":
        raise invalid("QuestionnaireResponse.resourceType", "une ressource QuestionnaireResponse est attendue.")
    if resource.get("status") not in ("completed", "amended"):
        raise invalid("QuestionnaireResponse.status", "seule une réponse « completed » est enregistrée.")
    subject = resource.get("subject")
    raw = subject.get("reference", "") if isinstance(subject, dict) else ""
    if not isinstance(raw, str) or not raw.startswith("Patient/"):
        raise invalid("QuestionnaireResponse.subject", "la personne (Patient/id) est obligatoire.")
    person_id = _int(raw.split("/", 1)[1], "Patient")
    version = _version_from(resource)
    try:
        person = services.require_evaluator(ctx.user, person_id, path=ctx.path).person
    except Http404:
        raise not_found("Patient") from None
    except access.AccessDenied as denied:
        raise FhirError(403, str(denied), code="forbidden") from None
    if not selectors.available_questionnaires(person).filter(pk=version.questionnaire_id).exists():
        raise invalid("QuestionnaireResponse.questionnaire", "ce questionnaire n'est pas proposé pour cette personne.")
    answers = _answers(resource, version.parsed)
    evaluated_on = None
    authored = resource.get("authored")
    if authored is not None:
        try:
            evaluated_on = dt.date.fromisoformat(str(authored)[:10])
        except ValueError:
            raise invalid("QuestionnaireResponse.authored", "date invalide.") from None
    carer = None
    source = resource.get("source")
    if isinstance(source, dict) and str(source.get("reference", "")).startswith("RelatedPerson/"):
        carer = CarerLink.objects.filter(
            pk=_int(source["reference"].split("/", 1)[1], "RelatedPerson"), person=person, ended_on__isnull=True
        ).first()
        if carer is None:
            raise invalid("QuestionnaireResponse.source", "aidant inconnu pour cette personne.")
    try:
        return services.evaluation_create(
            actor=ctx.user,
            person=person,
            version=version,
            answers=answers,
            evaluated_on=evaluated_on,
            respondent_carer=carer,
            source=ctx.caller.software.name if ctx.caller.software else "",
            path=ctx.path,
        )
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            code, messages = next(iter(error.message_dict.items()))
            raise invalid(f"QuestionnaireResponse.item.where(linkId='{code}')", " ".join(messages)) from None
        raise invalid("QuestionnaireResponse", " ".join(error.messages)) from None


_PATIENT = ("reference", "La personne (Patient/id)")

HANDLERS = {
    "Questionnaire": Handler(
        "Questionnaire",
        read_questionnaire,
        search_questionnaire,
        {"_id": ("token", "Identifiant de la version"), "name": ("string", "Code du questionnaire")},
        None,
        "Les questionnaires et échelles d'évaluation publiés : une ressource par version.",
    ),
    "QuestionnaireResponse": Handler(
        "QuestionnaireResponse",
        read_questionnaire_response,
        search_questionnaire_response,
        {
            "patient": _PATIENT,
            "subject": _PATIENT,
            "patient.identifier": ("token", "Identifiant de la personne"),
            "_id": ("token", "Identifiant de l'évaluation"),
            "questionnaire": ("reference", "La version du questionnaire (Questionnaire/id)"),
        },
        None,
        "Les évaluations de la personne (catégorie « évaluations »), avec leur score ; création par un "
        "logiciel connecté avec les mêmes vérifications que les pages.",
        writes=("create",),
    ),
}
