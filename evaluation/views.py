"""Pages of the evaluation block, for professionals. Every page loads the person
through the gate (category `evaluation`); every write calls a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Q, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from common.forms import add_service_errors
from coordination import access, rules
from coordination.models import Category
from evaluation import selectors, services
from evaluation.definition import QUESTION_TYPES, parse
from evaluation.forms import (
    CampaignForm,
    CompareForm,
    EvaluationForm,
    NewQuestionnaireForm,
    QuestionBuilderForm,
    QuestionnaireForm,
    ReferralForm,
    ScoringBuilderForm,
)
from evaluation.models import (
    Evaluation,
    NeedSuggestion,
    Questionnaire,
    QuestionnaireKind,
    Referral,
    ReferralStatus,
    ReferralUrgency,
    SuggestionStatus,
    VersionStatus,
)

LIST_LIMIT = 100


def _id(value) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < value <= access.MAX_ID:
        raise Http404
    return value


def _questionnaire(person, code: str) -> Questionnaire:
    questionnaire = selectors.available_questionnaires(person).filter(code=code).first()
    if questionnaire is None:
        raise Http404
    return questionnaire


@login_required
def person_evaluations(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person's evaluations, newest first, and the instruments one may fill."""
    grant = access.require(
        request.user, _id(person_id), Category.EVALUATION, "read", path=request.path, probe_write=True
    )
    person = grant.person
    evaluations = list(selectors.evaluations_of(person)[:LIST_LIMIT])
    may_fill = grant.can_write and rules.is_professional(request.user) and person.user_id != request.user.pk
    latest: dict[int, Evaluation] = {}
    for evaluation in evaluations:
        latest.setdefault(evaluation.version.questionnaire_id, evaluation)
    return render(
        request,
        "evaluation/person.html",
        {
            "person": person,
            "evaluations": evaluations,
            "latest": list(latest.values()),
            "questionnaires": list(selectors.available_questionnaires(person)) if may_fill else [],
            "may_fill": may_fill,
        },
    )


@login_required
def evaluation_new(request: HttpRequest, person_id: int, code: str) -> HttpResponse:
    """Fill an instrument for the person (its current published version)."""
    person = services.require_evaluator(request.user, _id(person_id), path=request.path).person
    questionnaire = _questionnaire(person, code)
    version = services.current_version(questionnaire)
    if version is None:
        raise Http404
    form = EvaluationForm(request.POST or None, definition=version.parsed, person=person)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                evaluation = services.evaluation_create(
                    actor=request.user,
                    person=person,
                    version=version,
                    answers=form.answers(),
                    evaluated_on=form.cleaned_data["evaluated_on"],
                    respondent_carer=form.cleaned_data["respondent_carer"],
                    comment=form.cleaned_data["comment"],
                    path=request.path,
                )
            except ValidationError as error:
                add_service_errors(form, error, form.renames())
            else:
                messages.success(request, "Évaluation enregistrée.")
                return redirect("evaluation:detail", evaluation_id=evaluation.pk)
        status = 400
    return render(
        request,
        "evaluation/fill.html",
        {"person": person, "questionnaire": questionnaire, "version": version, "form": form},
        status=status,
    )


def _evaluation(request, evaluation_id, action: str = "read", probe_write: bool = False):
    evaluation = get_object_or_404(
        Evaluation.objects.select_related("person", "version__questionnaire", "author", "respondent_carer__user"),
        pk=_id(evaluation_id),
    )
    grant = access.require(
        request.user, evaluation.person, Category.EVALUATION, action, path=request.path, probe_write=probe_write
    )
    return evaluation, grant


@login_required
def evaluation_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation, grant = _evaluation(request, evaluation_id, probe_write=True)
    may_decide = grant.can_write and rules.is_professional(request.user)
    correction = Evaluation.objects.filter(corrects=evaluation).only("pk").first()
    return render(
        request,
        "evaluation/detail.html",
        {
            "person": evaluation.person,
            "evaluation": evaluation,
            "rows": selectors.answer_rows(evaluation),
            "suggestions": list(evaluation.suggestions.select_related("serafin", "decided_by")),
            "may_decide": may_decide,
            "correction": correction,
            "proposed": SuggestionStatus.PROPOSED,
        },
    )


@login_required
def instrument_history(request: HttpRequest, person_id: int, code: str) -> HttpResponse:
    """One instrument over time: the chart of scores and two dates side by side."""
    person = access.get_person_or_404(request.user, person_id, Category.EVALUATION, "read", path=request.path)
    questionnaire = Questionnaire.objects.filter(code=code).first()
    if questionnaire is None:
        raise Http404
    evaluations = selectors.history(person, questionnaire)
    form = CompareForm(request.GET or None, evaluations=evaluations)
    rows, left, right = [], None, None
    if request.GET and form.is_valid():
        by_id = {e.pk: e for e in evaluations}
        left, right = by_id[form.cleaned_data["left"]], by_id[form.cleaned_data["right"]]
        rows = selectors.compare(left, right)
    elif not request.GET and len(evaluations) >= 2:
        left, right = evaluations[-2], evaluations[-1]
        rows = selectors.compare(left, right)
    return render(
        request,
        "evaluation/history.html",
        {
            "person": person,
            "questionnaire": questionnaire,
            "evaluations": evaluations,
            "chart": selectors.score_chart(evaluations),
            "form": form,
            "rows": rows,
            "left": left,
            "right": right,
        },
        status=400 if request.GET and not form.is_valid() else 200,
    )


@login_required
@require_POST
def suggestion_decide(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    """Accept (the need goes into the draft plan) or discard a proposed need."""
    suggestion = get_object_or_404(NeedSuggestion.objects.select_related("evaluation__person"), pk=_id(suggestion_id))
    access.require(request.user, suggestion.evaluation.person, Category.EVALUATION, "write", path=request.path)
    decision = request.POST.get("decision")
    try:
        if decision == "accept":
            services.suggestion_accept(actor=request.user, suggestion=suggestion)
            messages.success(request, "Besoin ajouté au projet personnalisé en brouillon.")
        elif decision == "discard":
            services.suggestion_discard(actor=request.user, suggestion=suggestion)
            messages.success(request, "Proposition écartée.")
        else:
            messages.error(request, "Choisissez d'accepter ou d'écarter la proposition.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except access.AccessDenied as error:
        # The plan's own right (`ppa` write) decides whether the need may enter it.
        messages.error(request, str(error))
    return redirect("evaluation:detail", evaluation_id=suggestion.evaluation_id)


# --- Satisfaction questionnaires -----------------------------------------------------------------


@login_required
def structure_satisfaction(request: HttpRequest, structure_id: int) -> HttpResponse:
    """A structure's satisfaction questionnaires: send one, see the earlier sendings."""
    structure = access.require_structure_admin(request.user, structure_id)
    questionnaires = selectors.satisfaction_questionnaires(structure)
    form = CampaignForm(request.POST or None, questionnaires=questionnaires)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                campaign = services.campaign_send(
                    actor=request.user,
                    structure=structure,
                    version=services.current_version(form.cleaned_data["questionnaire"]),
                    title=form.cleaned_data["title"],
                    closes_on=form.cleaned_data["closes_on"],
                    is_anonymous=form.cleaned_data["is_anonymous"],
                )
            except ValidationError as error:
                add_service_errors(form, error, {"version": "questionnaire"})
            else:
                messages.success(request, f"Questionnaire envoyé à {campaign.invitations.count()} personnes.")
                return redirect("evaluation:structure_satisfaction", structure_id=structure.pk)
        status = 400
    campaigns = structure.satisfaction_campaigns.select_related("version__questionnaire").annotate(
        invited=Count("invitations", distinct=True), answered=Count("responses", distinct=True)
    )
    return render(
        request,
        "evaluation/structure_satisfaction.html",
        {"structure": structure, "form": form, "campaigns": campaigns, "threshold": services.RESULTS_THRESHOLD},
        status=status,
    )


@login_required
def campaign_results(request: HttpRequest, structure_id: int, campaign_id: int) -> HttpResponse:
    structure = access.require_structure_admin(request.user, structure_id)
    campaign = get_object_or_404(
        structure.satisfaction_campaigns.select_related("version__questionnaire"), pk=_id(campaign_id)
    )
    return render(
        request,
        "evaluation/campaign_results.html",
        {
            "structure": structure,
            "campaign": campaign,
            "results": selectors.campaign_results(campaign, services.RESULTS_THRESHOLD),
            "threshold": services.RESULTS_THRESHOLD,
        },
    )


@login_required
def my_questionnaires(request: HttpRequest) -> HttpResponse:
    """The satisfaction questionnaires waiting for the signed-in person or carer."""
    invitations = selectors.pending_invitations(request.user)
    return render(request, "evaluation/my_questionnaires.html", {"invitations": invitations})


@login_required
def satisfaction_answer(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_for(request.user, token)
    campaign = invitation.campaign
    definition = campaign.version.parsed
    form = QuestionnaireForm(request.POST or None, definition=definition)
    status = 200
    if invitation.answered_at is None and request.method == "POST":
        if form.is_valid():
            try:
                services.satisfaction_answer(actor=request.user, token=token, answers=form.answers())
            except ValidationError as error:
                add_service_errors(form, error, form.renames())
            else:
                messages.success(request, "Merci pour votre réponse.")
                return redirect("evaluation:my_questionnaires")
        status = 400
    return render(
        request,
        "evaluation/satisfaction_answer.html",
        {
            "invitation": invitation,
            "campaign": campaign,
            "form": form,
            "is_closed": campaign.closes_on < timezone.localdate(),
        },
        status=status,
    )


# --- Referral to a coordination structure ------------------------------------------------------


def _person_side_persons(user):
    """The persons a person-side user may refer: themself and those they are the carer of."""
    from coordination.models import CarerLink, Person

    if rules.is_professional(user):
        return None
    return Person.objects.filter(
        Q(user=user) | Q(pk__in=CarerLink.objects.filter(user=user, ended_on__isnull=True).values("person_id"))
    )


@login_required
def referral_new(request: HttpRequest) -> HttpResponse:
    """The referral form: a professional (in or outside any circle), the person or a carer
    signals a situation to a coordination structure, with the person's agreement."""
    questionnaire = Questionnaire.objects.filter(kind=QuestionnaireKind.REFERRAL, is_active=True).order_by("pk").first()
    version = services.current_version(questionnaire) if questionnaire else None
    if version is None:
        raise Http404
    persons = _person_side_persons(request.user)
    form = ReferralForm(
        request.POST or None, definition=version.parsed, structures=services.referral_destinations(), persons=persons
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.referral_send(
                    actor=request.user,
                    structure=form.cleaned_data["structure"],
                    version=version,
                    answers=form.answers(),
                    person=form.cleaned_data.get("person"),
                )
            except ValidationError as error:
                add_service_errors(form, error, form.renames())
            else:
                messages.success(request, "Demande d'orientation envoyée. Le dispositif vous recontactera.")
                return redirect("home")
        status = 400
    return render(
        request, "evaluation/referral_new.html", {"form": form, "questionnaire": questionnaire}, status=status
    )


@login_required
def referral_queue(request: HttpRequest, structure_id: int) -> HttpResponse:
    """The referrals a coordination structure received, the urgent and unhandled first."""
    from coordination.models import Structure

    structure = get_object_or_404(Structure, pk=_id(structure_id))
    services.require_referral_reader(request.user, structure)
    if request.method == "POST":
        referral = get_object_or_404(Referral, pk=_id(request.POST.get("referral")), structure=structure)
        try:
            services.referral_take(actor=request.user, referral=referral, status=request.POST.get("status", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Demande mise à jour.")
        return redirect("evaluation:referral_queue", structure_id=structure.pk)
    urgency_rank = Case(
        When(urgency=ReferralUrgency.HIGH, then=0), When(urgency=ReferralUrgency.MEDIUM, then=1), default=2
    )
    open_rank = Case(When(status=ReferralStatus.CLOSED, then=1), default=0)
    referrals = list(
        structure.referrals.select_related("version", "sent_by", "handled_by")
        .annotate(open_rank=open_rank, urgency_rank=urgency_rank)
        .order_by("open_rank", "urgency_rank", "-sent_at")[:LIST_LIMIT]
    )
    for referral in referrals:
        referral.rows = selectors.referral_rows(referral)
    return render(
        request,
        "evaluation/referral_queue.html",
        {
            "structure": structure,
            "referrals": referrals,
            "closed": ReferralStatus.CLOSED,
            "taken": ReferralStatus.TAKEN,
        },
    )


# --- The builder: a structure's own questionnaires ------------------------------------------


@login_required
def builder(request: HttpRequest, structure_id: int) -> HttpResponse:
    """A structure's questionnaires, and a new one (a draft completed on its own page)."""
    structure = access.require_structure_admin(request.user, structure_id)
    form = NewQuestionnaireForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                questionnaire = services.questionnaire_create(
                    actor=request.user,
                    structure=structure,
                    definition={"sections": []},
                    publish=False,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("evaluation:builder_edit", structure_id=structure.pk, questionnaire_id=questionnaire.pk)
        status = 400
    questionnaires = structure.questionnaires.prefetch_related("versions").order_by("title")
    return render(
        request,
        "evaluation/builder.html",
        {"structure": structure, "form": form, "questionnaires": questionnaires},
        status=status,
    )


@login_required
def builder_edit(request: HttpRequest, structure_id: int, questionnaire_id: int) -> HttpResponse:
    """Build the next version: add or remove questions, set the score, publish."""
    structure = access.require_structure_admin(request.user, structure_id)
    questionnaire = get_object_or_404(structure.questionnaires, pk=_id(questionnaire_id))
    draft = questionnaire.versions.filter(status=VersionStatus.DRAFT).first()
    question_form = QuestionBuilderForm(request.POST if request.POST.get("action") == "question" else None)
    initial_scoring = {}
    if draft:
        scoring = draft.definition.get("scoring") or {}
        initial_scoring = {
            "method": scoring.get("method", ""),
            "bands": "\n".join(
                f"{b['min']} | {b['max']} | {b['label']} | {b.get('interpretation', '')}"
                for b in scoring.get("bands", [])
            ),
        }
    scoring_form = ScoringBuilderForm(
        request.POST if request.POST.get("action") == "scoring" else None, initial=initial_scoring
    )
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "draft":
                services.version_draft(actor=request.user, questionnaire=questionnaire)
            elif action == "question":
                if not question_form.is_valid():
                    raise ValidationError("")
                services.draft_question_add(
                    actor=request.user,
                    questionnaire=questionnaire,
                    section=question_form.cleaned_data["section"],
                    question=question_form.question(),
                )
            elif action == "remove":
                services.draft_question_remove(
                    actor=request.user, questionnaire=questionnaire, code=request.POST.get("code", "")
                )
            elif action == "scoring":
                if not scoring_form.is_valid():
                    raise ValidationError("")
                services.draft_scoring_set(
                    actor=request.user,
                    questionnaire=questionnaire,
                    method=scoring_form.cleaned_data["method"],
                    bands=scoring_form.cleaned_data["bands"],
                )
            elif action == "publish" and draft is not None:
                services.version_publish(actor=request.user, version=draft, change_note=request.POST.get("note", ""))
                messages.success(request, "Version publiée : les nouvelles évaluations l'utilisent.")
            else:
                raise Http404
        except ValidationError as error:
            status = 400
            target = scoring_form if action == "scoring" else question_form
            if action in ("question", "scoring"):
                if any(error.messages):
                    add_service_errors(target, error)
            else:
                messages.error(request, " ".join(error.messages))
        else:
            return redirect("evaluation:builder_edit", structure_id=structure.pk, questionnaire_id=questionnaire.pk)
    preview = None
    if draft is not None:
        preview = parse(draft.definition, partial=True)
    return render(
        request,
        "evaluation/builder_edit.html",
        {
            "structure": structure,
            "questionnaire": questionnaire,
            "draft": draft,
            "preview": preview,
            "current": services.current_version(questionnaire),
            "question_form": question_form,
            "scoring_form": scoring_form,
            "types": QUESTION_TYPES,
        },
        status=status,
    )
