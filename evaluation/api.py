"""REST API of the evaluation block, under /api/evaluation/. The same gate and services
as the pages: a stranger gets 404, a member without the right 403, a bad answer 400
with a French message naming the question."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import ERRORS, READ_ERRORS, ServiceAPIView
from coordination import access
from coordination.models import CarerLink, Category
from evaluation import selectors, services
from evaluation.models import Evaluation, Questionnaire
from evaluation.serializers import EvaluationInputSerializer, EvaluationSerializer, QuestionnaireSerializer

TAGS = ["Évaluation"]
LIST_LIMIT = 200


class QuestionnairesView(ServiceAPIView):
    @extend_schema(
        operation_id="evaluation_questionnaires_list",
        tags=TAGS,
        summary="Les questionnaires proposés",
        description="Instruments fournis et questionnaires des structures, avec leur version en cours.",
        responses={200: QuestionnaireSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        if not getattr(request.user, "is_authenticated", False):
            raise exceptions.NotAuthenticated()
        questionnaires = Questionnaire.objects.filter(is_active=True).prefetch_related("versions").order_by("code")
        return Response(QuestionnaireSerializer(questionnaires, many=True).data)


def _evaluations(queryset):
    return queryset.select_related("version__questionnaire").prefetch_related("suggestions__serafin")


class PersonEvaluationsView(ServiceAPIView):
    serializer_class = EvaluationInputSerializer

    @extend_schema(
        operation_id="evaluation_person_list",
        tags=TAGS,
        summary="Les évaluations d'une personne",
        description=f"Droit « évaluations » en lecture. Les plus récentes d'abord ({LIST_LIMIT} au plus).",
        responses={200: EvaluationSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        person = access.get_person_or_404(request.user, pk, Category.EVALUATION, "read", path=request.path)
        evaluations = _evaluations(selectors.evaluations_of(person))[:LIST_LIMIT]
        return Response(EvaluationSerializer(evaluations, many=True).data)

    @extend_schema(
        operation_id="evaluation_person_create",
        tags=TAGS,
        summary="Enregistrer une évaluation",
        description="Un professionnel avec le droit « évaluations » en écriture. Les réponses sont vérifiées "
        "selon la version en cours du questionnaire ; le score et son résultat sont calculés.",
        request=EvaluationInputSerializer,
        responses={201: EvaluationSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        if pk > access.MAX_ID:
            raise exceptions.NotFound()
        person = services.require_evaluator(request.user, pk, path=request.path).person
        data = self.validated(EvaluationInputSerializer, request.data)
        questionnaire = selectors.available_questionnaires(person).filter(code=data["questionnaire"]).first()
        version = services.current_version(questionnaire) if questionnaire else None
        if version is None:
            raise exceptions.ValidationError({"questionnaire": ["Questionnaire inconnu ou non proposé."]})
        carer = None
        if data.get("respondent_carer"):
            carer = CarerLink.objects.filter(pk=data["respondent_carer"], person=person).first()
            if carer is None:
                raise exceptions.ValidationError({"respondent_carer": ["Choisissez un aidant de cette personne."]})
        corrects = None
        if data.get("corrects"):
            corrects = Evaluation.objects.filter(pk=data["corrects"], person=person).first()
            if corrects is None:
                raise exceptions.ValidationError({"corrects": ["Évaluation inconnue pour cette personne."]})
        evaluation = services.evaluation_create(
            actor=request.user,
            person=person,
            version=version,
            answers=data["answers"],
            evaluated_on=data.get("evaluated_on"),
            respondent_carer=carer,
            comment=data.get("comment", ""),
            corrects=corrects,
            path=request.path,
        )
        loaded = _evaluations(Evaluation.objects.filter(pk=evaluation.pk)).get()
        return Response(EvaluationSerializer(loaded).data, status=status.HTTP_201_CREATED)


class EvaluationView(ServiceAPIView):
    @extend_schema(
        operation_id="evaluation_retrieve",
        tags=TAGS,
        summary="Une évaluation",
        responses={200: EvaluationSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        if pk > access.MAX_ID:
            raise exceptions.NotFound()
        evaluation = _evaluations(Evaluation.objects.filter(pk=pk)).select_related("person").first()
        if evaluation is None:
            raise exceptions.NotFound()
        access.require(request.user, evaluation.person, Category.EVALUATION, "read", path=request.path)
        return Response(EvaluationSerializer(evaluation).data)
