"""Writes of the evaluation block. Each is atomic, passes the gate and writes its audit
row in the same transaction."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from coordination import access, rules
from coordination.models import CarerLink, Category, CircleMember, Person, Structure
from coordination.services import audit
from evaluation.audit_types import EvaluationAudit
from evaluation.definition import evaluate, parse, proposed_needs
from evaluation.models import (
    Evaluation,
    NeedSuggestion,
    Questionnaire,
    QuestionnaireKind,
    QuestionnaireVersion,
    Referral,
    ReferralStatus,
    ReferralUrgency,
    SuggestionStatus,
    VersionStatus,
)
from reference.models import SerafinCode, SerafinKind

# --- Questionnaires and their versions ---------------------------------------------------------


def _require_definer(actor, questionnaire: Questionnaire) -> None:
    """A structure's questionnaire is its administrators'; a shipped one is changed only
    in the Django admin (by a superuser)."""
    if questionnaire.structure_id is None:
        if not getattr(actor, "is_superuser", False):
            raise access.AccessDenied("Les instruments fournis avec le portail ne se modifient pas ici.")
        return
    access.require_structure_admin(actor, questionnaire.structure_id)


@transaction.atomic
def questionnaire_create(
    *,
    actor,
    structure: Structure | None,
    code: str,
    title: str,
    kind: str,
    definition: dict,
    description: str = "",
    publish: bool = True,
) -> Questionnaire:
    """A new questionnaire with its first version: published at once (`publish`), or a
    draft that the builder page completes question by question."""
    if kind not in QuestionnaireKind.values:
        raise ValidationError({"kind": "Choisissez la nature du questionnaire."})
    if not title.strip():
        raise ValidationError({"title": "Donnez un titre au questionnaire."})
    if Questionnaire.objects.filter(code=code).exists():
        raise ValidationError({"code": "Ce code est déjà pris."})
    questionnaire = Questionnaire(
        structure=structure, code=code, title=title.strip(), kind=kind, description=description
    )
    _require_definer(actor, questionnaire)
    parse(definition, partial=not publish)
    questionnaire.save()
    version = QuestionnaireVersion.objects.create(
        questionnaire=questionnaire,
        number=1,
        definition=definition,
        status=VersionStatus.PUBLISHED if publish else VersionStatus.DRAFT,
        published_at=timezone.now() if publish else None,
        created_by=actor,
    )
    if publish:
        audit(actor, None, EvaluationAudit.QUESTIONNAIRE_PUBLISHED, questionnaire=questionnaire.pk, version=version.pk)
    return questionnaire


def current_version(questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    return questionnaire.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


@transaction.atomic
def version_draft(*, actor, questionnaire: Questionnaire, definition: dict | None = None) -> QuestionnaireVersion:
    """The draft of the next version (made from the current one if there is none yet);
    `definition` replaces its content. Published versions are never touched."""
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    _require_definer(actor, questionnaire)
    draft = questionnaire.versions.filter(status=VersionStatus.DRAFT).first()
    if definition is not None:
        parse(definition, partial=True)
    if draft is None:
        base = current_version(questionnaire)
        number = (questionnaire.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        draft = QuestionnaireVersion.objects.create(
            questionnaire=questionnaire,
            number=number,
            definition=copy.deepcopy(definition if definition is not None else base.definition if base else {}),
            created_by=actor,
        )
    elif definition is not None:
        draft.definition = definition
        draft.save(update_fields=["definition"])
    return draft


@transaction.atomic
def version_publish(*, actor, version: QuestionnaireVersion, change_note: str = "") -> QuestionnaireVersion:
    """Publish a draft: new evaluations use it; earlier ones keep the version they were
    filled with (their questions, answers and scores do not move)."""
    version = QuestionnaireVersion.objects.select_for_update().select_related("questionnaire").get(pk=version.pk)
    _require_definer(actor, version.questionnaire)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError("Cette version est déjà publiée.")
    parse(version.definition)
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.change_note = change_note.strip()[:300]
    version.save(update_fields=["status", "published_at", "change_note"])
    audit(
        actor, None, EvaluationAudit.QUESTIONNAIRE_PUBLISHED, questionnaire=version.questionnaire_id, version=version.pk
    )
    return version


@transaction.atomic
def draft_question_add(*, actor, questionnaire: Questionnaire, section: str, question: dict) -> QuestionnaireVersion:
    """The builder: a question appended to a section of the draft (a new section when
    the title is new). The whole definition is checked again."""
    draft = version_draft(actor=actor, questionnaire=questionnaire)
    definition = copy.deepcopy(draft.definition) or {}
    sections = definition.setdefault("sections", [])
    title = section.strip()
    if not title:
        raise ValidationError({"section": "Donnez le titre de la partie."})
    target = next((s for s in sections if s.get("title") == title), None)
    if target is None:
        target = {"title": title, "questions": []}
        sections.append(target)
    target.setdefault("questions", []).append(question)
    return version_draft(actor=actor, questionnaire=questionnaire, definition=definition)


@transaction.atomic
def draft_question_remove(*, actor, questionnaire: Questionnaire, code: str) -> QuestionnaireVersion:
    draft = version_draft(actor=actor, questionnaire=questionnaire)
    definition = copy.deepcopy(draft.definition)
    for section in definition.get("sections", []):
        section["questions"] = [q for q in section.get("questions", []) if q.get("code") != code]
    definition["sections"] = [s for s in definition.get("sections", []) if s["questions"]]
    return version_draft(actor=actor, questionnaire=questionnaire, definition=definition)


@transaction.atomic
def draft_need_add(*, actor, questionnaire: Questionnaire, rule: dict) -> QuestionnaireVersion:
    """The builder: a mapping rule (an answer or a score proposes a SERAFIN-PH need)."""
    draft = version_draft(actor=actor, questionnaire=questionnaire)
    if not SerafinCode.objects.filter(kind=SerafinKind.NEED, code=rule.get("serafin", "")).exists():
        raise ValidationError({"serafin": "Besoin : donnez un code de besoin SERAFIN-PH (par exemple 1.2.1.3)."})
    definition = copy.deepcopy(draft.definition)
    definition.setdefault("needs", []).append(rule)
    return version_draft(actor=actor, questionnaire=questionnaire, definition=definition)


@transaction.atomic
def draft_scoring_set(*, actor, questionnaire: Questionnaire, method: str, bands: list[dict]) -> QuestionnaireVersion:
    draft = version_draft(actor=actor, questionnaire=questionnaire)
    definition = copy.deepcopy(draft.definition)
    if method:
        definition["scoring"] = {"method": method, "bands": bands}
    else:
        definition.pop("scoring", None)
    return version_draft(actor=actor, questionnaire=questionnaire, definition=definition)


# --- A person's evaluations ---------------------------------------------------------------------


def require_evaluator(actor, person: Person | int, *, path: str = "") -> access.Access:
    """Evaluations are filled by professionals with the `evaluation` write right."""
    grant = access.require(actor, person, Category.EVALUATION, "write", path=path)
    if not rules.is_professional(actor) or grant.person.user_id == actor.pk:
        raise access.AccessDenied("Les évaluations sont remplies par les professionnels du cercle.")
    return grant


def _author_structure(actor, person: Person) -> Structure | None:
    member = (
        CircleMember.objects.filter(person=person, user=actor, ended_at__isnull=True, structure__isnull=False)
        .select_related("structure")
        .order_by("pk")
        .first()
    )
    return member.structure if member else None


@transaction.atomic
def evaluation_create(
    *,
    actor,
    person: Person,
    version: QuestionnaireVersion,
    answers: dict[str, Any],
    evaluated_on=None,
    respondent_carer: CarerLink | None = None,
    comment: str = "",
    corrects: Evaluation | None = None,
    source: str = "",
    path: str = "",
) -> Evaluation:
    """Record a filled questionnaire: answers checked (a ValidationError names each
    question refused, and nothing is saved), hidden questions dropped, the score and
    its band computed with the version's rules, the mapped needs proposed (not added)."""
    require_evaluator(actor, person, path=path)
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError("Ce questionnaire n'est pas publié.")
    if version.questionnaire.kind != QuestionnaireKind.EVALUATION:
        raise ValidationError("Ce questionnaire ne s'utilise pas pour une évaluation.")
    if not version.questionnaire.is_active:
        raise ValidationError("Ce questionnaire n'est plus proposé.")
    if respondent_carer is not None and (respondent_carer.person_id != person.pk or respondent_carer.ended_on):
        raise ValidationError({"respondent_carer": "Choisissez un aidant de cette personne."})
    if corrects is not None:
        corrects = Evaluation.objects.select_for_update().get(pk=corrects.pk)
        if corrects.person_id != person.pk or corrects.version.questionnaire_id != version.questionnaire_id:
            raise ValidationError("Une correction porte sur une évaluation de la même personne, du même questionnaire.")
        if Evaluation.objects.filter(corrects=corrects).exists():
            raise ValidationError("Cette évaluation a déjà été corrigée.")
    today = timezone.localdate()
    evaluated_on = evaluated_on or today
    if evaluated_on > today:
        raise ValidationError({"evaluated_on": "La date de l'évaluation ne peut pas être dans le futur."})
    definition = version.parsed
    result = evaluate(definition, answers)
    evaluation = Evaluation.objects.create(
        person=person,
        version=version,
        respondent_carer=respondent_carer,
        evaluated_on=evaluated_on,
        answers=result.answers,
        score=result.score,
        band_label=result.band.label if result.band else "",
        band_interpretation=result.band.interpretation if result.band else "",
        comment=comment.strip(),
        author=actor,
        author_structure=_author_structure(actor, person),
        corrects=corrects,
        source=source[:100],
    )
    rules_met = proposed_needs(definition, result.answers, result.score)
    if rules_met:
        codes = {
            c.code: c
            for c in SerafinCode.objects.filter(kind=SerafinKind.NEED, code__in=[r.serafin for r in rules_met])
        }
        NeedSuggestion.objects.bulk_create(
            [
                NeedSuggestion(evaluation=evaluation, serafin=codes[r.serafin], description=r.description)
                for r in rules_met
                if r.serafin in codes
            ]
        )
    audit(
        actor,
        person,
        EvaluationAudit.EVALUATION_RECORDED,
        evaluation=evaluation.pk,
        questionnaire=version.questionnaire.code,
        version=version.number,
        corrects=corrects.pk if corrects else None,
    )
    return evaluation


# --- Needs proposed to the plan -----------------------------------------------------------------


@transaction.atomic
def suggestion_accept(*, actor, suggestion: NeedSuggestion) -> NeedSuggestion:
    """Add the proposed need to the person's draft plan (through the plan's own service
    and its checks), and remember it was accepted."""
    from ppa import selectors as ppa_selectors
    from ppa import services as ppa_services
    from ppa.models import Plan

    suggestion = NeedSuggestion.objects.select_for_update().select_related("evaluation__person").get(pk=suggestion.pk)
    person = suggestion.evaluation.person
    require_evaluator(actor, person)
    if suggestion.status != SuggestionStatus.PROPOSED:
        raise ValidationError("Cette proposition a déjà été traitée.")
    plan = Plan.objects.filter(person=person).first()
    draft = ppa_selectors.open_version(plan) if plan else None
    if draft is None:
        raise ValidationError(
            "Le projet personnalisé n'a pas de version en brouillon : ouvrez-en une (ou un avenant) d'abord."
        )
    need = ppa_services.need_add(
        actor=actor, version=draft, serafin=suggestion.serafin, description=suggestion.description
    )
    suggestion.status = SuggestionStatus.ACCEPTED
    suggestion.decided_by = actor
    suggestion.decided_at = timezone.now()
    suggestion.need_key = need.key
    suggestion.save(update_fields=["status", "decided_by", "decided_at", "need_key"])
    audit(actor, person, EvaluationAudit.NEED_ACCEPTED, suggestion=suggestion.pk, serafin=suggestion.serafin.code)
    return suggestion


@transaction.atomic
def suggestion_discard(*, actor, suggestion: NeedSuggestion) -> NeedSuggestion:
    suggestion = NeedSuggestion.objects.select_for_update().select_related("evaluation__person").get(pk=suggestion.pk)
    person = suggestion.evaluation.person
    require_evaluator(actor, person)
    if suggestion.status != SuggestionStatus.PROPOSED:
        raise ValidationError("Cette proposition a déjà été traitée.")
    suggestion.status = SuggestionStatus.DISCARDED
    suggestion.decided_by = actor
    suggestion.decided_at = timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])
    audit(actor, person, EvaluationAudit.NEED_DISCARDED, suggestion=suggestion.pk, serafin=suggestion.serafin.code)
    return suggestion


# --- Referral to a coordination structure -------------------------------------------------------


def referral_destinations():
    """Structures that take referrals: the coordination services (DAC)."""
    from coordination.models import StructureKind

    return Structure.objects.filter(kind=StructureKind.DAC).order_by("name")


def _sender_role(actor, person: Person | None) -> str:
    if person is not None and person.user_id == actor.pk:
        return "person"
    if person is not None and CarerLink.objects.filter(person=person, user=actor, ended_on__isnull=True).exists():
        return "carer"
    if rules.is_professional(actor):
        return "professional"
    raise access.AccessDenied("Une orientation est envoyée par un professionnel, la personne ou un de ses proches.")


@transaction.atomic
def referral_send(
    *,
    actor,
    structure: Structure,
    version: QuestionnaireVersion,
    answers: dict[str, Any],
    person: Person | None = None,
) -> Referral:
    """Send a referral form to a coordination structure, with the person's consent.

    Anyone who knows the situation may send one (a professional outside the circle
    included): it reveals nothing of the record. The form's own questions `urgency` and
    `consent` carry the urgency and the person's agreement; without the agreement nothing
    is sent. For a known person, an admission request of the structure is opened too
    (`_admission_request`)."""
    if not referral_destinations().filter(pk=structure.pk).exists():
        raise ValidationError({"structure": "Choisissez un dispositif de coordination."})
    if version.status != VersionStatus.PUBLISHED or version.questionnaire.kind != QuestionnaireKind.REFERRAL:
        raise ValidationError("Ce formulaire n'est pas une fiche d'orientation publiée.")
    sent_as = _sender_role(actor, person)
    result = evaluate(version.parsed, answers)
    if result.answers.get("consent") != "oui":
        raise ValidationError(
            {"consent": "« La personne est-elle d'accord ? » : sans son accord, l'orientation n'est pas envoyée."}
        )
    urgency = result.answers.get("urgency")
    if urgency not in ReferralUrgency.values:
        raise ValidationError({"urgency": "« Urgence » : choisissez le degré d'urgence."})
    now = timezone.now()
    referral = Referral.objects.create(
        structure=structure,
        version=version,
        person=person,
        answers=result.answers,
        urgency=urgency,
        has_consent=True,
        consent_recorded_at=now,
        sent_by=actor,
        sent_as=sent_as,
        sent_at=now,
    )
    audit(actor, person, EvaluationAudit.REFERRAL_SENT, referral=referral.pk, structure=structure.pk)
    from django.urls import reverse

    from common.notify import notify
    from coordination.models import TeamMembership

    team = get_user_model().objects.filter(
        pk__in=TeamMembership.objects.filter(structure=structure, ended_on__isnull=True).values("professional__user_id")
    )
    notify(
        "evaluation.referral_received",
        person=None,
        actor=actor,
        recipients=team,
        url=reverse("evaluation:referral_queue", args=[structure.pk]),
        subject=referral,
    )
    if person is not None:
        referral.admission_request = _admission_request(actor, referral, person, structure)
        if referral.admission_request is not None:
            referral.save(update_fields=["admission_request"])
    return referral


def _admission_request(actor, referral: Referral, person: Person, structure: Structure):
    """For a known person, the admission block's request to the structure, beside the
    queue row (its staff follow it there). When the structure takes no request on the
    portal, or one is already open, the queue row alone carries the referral."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from admission import services as admission_services

    answers = referral.answers
    agreement = {"oral": "oral", "written": "written"}.get(answers.get("consent_how", ""), "")
    message = "\n\n".join(
        part
        for part in (
            answers.get("situation", ""),
            f"Urgence : {ReferralUrgency(referral.urgency).label}.",
            f"Joignable au {answers['requester_phone']}." if answers.get("requester_phone") else "",
        )
        if part
    )
    try:
        with transaction.atomic():
            return admission_services.create_request(
                actor=actor,
                person=person,
                structures=[structure],
                message=message,
                agreement_via=agreement,
                agreement_note="Accord recueilli sur la fiche d'orientation.",
                source="evaluation",
            )
    except (ValidationError, PermissionDenied, Http404):
        return None


def require_referral_reader(actor, structure: Structure) -> None:
    """A structure's queue is read by its team (today)."""
    if not rules.team_memberships_in_force(actor).filter(structure=structure).exists():
        from django.http import Http404

        raise Http404


@transaction.atomic
def referral_take(*, actor, referral: Referral, status: str) -> Referral:
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    require_referral_reader(actor, referral.structure)
    if status not in (ReferralStatus.TAKEN, ReferralStatus.CLOSED):
        raise ValidationError({"status": "Choisissez « prise en charge » ou « close »."})
    if referral.status == ReferralStatus.CLOSED:
        raise ValidationError("Cette demande est close.")
    referral.status = status
    referral.handled_by = actor
    referral.handled_at = timezone.now()
    referral.save(update_fields=["status", "handled_by", "handled_at"])
    audit(actor, referral.person, EvaluationAudit.REFERRAL_HANDLED, referral=referral.pk, status=status)
    return referral


# --- Satisfaction questionnaires ----------------------------------------------------------------

RESULTS_THRESHOLD = 5


def satisfaction_recipients(structure: Structure) -> list[tuple[Any, str]]:
    """(user, "person" | "carer") for the persons the structure accompanies today (with an
    account) and their carers."""
    from coordination.models import Accompaniment

    persons = Person.objects.filter(
        pk__in=Accompaniment.objects.filter(structure=structure, ended_on__isnull=True).values("person_id")
    )
    users: dict[int, tuple[Any, str]] = {}
    for person in persons.filter(user__isnull=False, user__is_active=True).select_related("user"):
        users.setdefault(person.user_id, (person.user, "person"))
    for link in CarerLink.objects.filter(
        person__in=persons, ended_on__isnull=True, user__is_active=True
    ).select_related("user"):
        users.setdefault(link.user_id, (link.user, "carer"))
    return list(users.values())


@transaction.atomic
def campaign_send(
    *, actor, structure: Structure, version: QuestionnaireVersion, title: str, closes_on, is_anonymous: bool = True
):
    """Ask the persons the structure accompanies and their carers for their opinion: one
    invitation each, told in the portal and by an e-mail that names no health detail."""
    import secrets

    from django.urls import reverse

    from common.notify import notify
    from evaluation.models import SatisfactionCampaign, SatisfactionInvitation

    structure = access.require_structure_admin(actor, structure.pk)
    version = QuestionnaireVersion.objects.select_related("questionnaire").get(pk=version.pk)
    questionnaire = version.questionnaire
    if (
        questionnaire.kind != QuestionnaireKind.SATISFACTION
        or version.status != VersionStatus.PUBLISHED
        or questionnaire.structure_id not in (None, structure.pk)
    ):
        raise ValidationError({"questionnaire": "Choisissez un questionnaire de satisfaction publié."})
    if not title.strip():
        raise ValidationError({"title": "Donnez un titre à cet envoi."})
    if closes_on is None or closes_on <= timezone.localdate():
        raise ValidationError({"closes_on": "La date de clôture doit être après aujourd'hui."})
    recipients = satisfaction_recipients(structure)
    if not recipients:
        raise ValidationError("Aucune personne accompagnée ni aucun proche n'a de compte sur le portail.")
    campaign = SatisfactionCampaign.objects.create(
        structure=structure,
        version=version,
        title=title.strip()[:200],
        is_anonymous=is_anonymous,
        closes_on=closes_on,
        created_by=actor,
    )
    invitations = SatisfactionInvitation.objects.bulk_create(
        [
            SatisfactionInvitation(campaign=campaign, user=user, respondent_kind=kind, token=secrets.token_urlsafe(32))
            for user, kind in recipients
        ]
    )
    tokens = {invitation.user_id: invitation.token for invitation in invitations}
    notify(
        "evaluation.satisfaction_invitation",
        person=None,
        actor=actor,
        recipients=[user for user, _kind in recipients],
        url_for=lambda user: reverse("evaluation:satisfaction_answer", args=[tokens[user.pk]]),
    )
    audit(actor, None, EvaluationAudit.CAMPAIGN_SENT, campaign=campaign.pk, invited=len(invitations))
    return campaign


def invitation_for(actor, token: str):
    """The invitation behind a link, for its own addressee only (404 otherwise)."""
    from django.http import Http404

    from evaluation.models import SatisfactionInvitation

    invitation = (
        SatisfactionInvitation.objects.select_related("campaign__version__questionnaire", "campaign__structure")
        .filter(token=str(token)[:64], user_id=getattr(actor, "pk", None))
        .first()
    )
    if invitation is None:
        raise Http404
    return invitation


@transaction.atomic
def satisfaction_answer(*, actor, token: str, answers: dict[str, Any]):
    """Record one answer per invitation. Anonymous: the answer keeps neither the account
    nor the invitation, only the day."""
    from evaluation.models import SatisfactionInvitation, SatisfactionResponse

    invitation = invitation_for(actor, token)
    invitation = SatisfactionInvitation.objects.select_for_update().get(pk=invitation.pk)
    campaign = invitation.campaign
    if invitation.answered_at is not None:
        raise ValidationError("Vous avez déjà répondu à ce questionnaire. Merci !")
    if campaign.closes_on < timezone.localdate():
        raise ValidationError("Ce questionnaire est clos.")
    result = evaluate(campaign.version.parsed, answers)
    response = SatisfactionResponse.objects.create(
        campaign=campaign,
        answers=result.answers,
        respondent_kind=invitation.respondent_kind,
        respondent=None if campaign.is_anonymous else actor,
    )
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["answered_at"])
    return response
