"""Pages of the evaluation block, for professionals. Every page loads the person
through the gate (category `evaluation`); every write calls a service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from common.forms import add_service_errors
from coordination import access, rules
from coordination.models import Category
from evaluation import selectors, services
from evaluation.forms import CompareForm, EvaluationForm
from evaluation.models import Evaluation, NeedSuggestion, Questionnaire, SuggestionStatus

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
