"""REST API of the projet personnalisé, under /api/ppa/.

The same gate and services as the pages: a stranger gets 404, a member without the
right 403, a change to a version that is not a draft 409 with a French message.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import ERRORS, READ_ERRORS, DetailSerializer, ServiceAPIView
from coordination import access
from coordination.models import Category
from ppa import selectors, services
from ppa.models import Action, Need, Objective, Plan, PlanVersion, Section
from ppa.serializers import (
    ActionInputSerializer,
    AmendInputSerializer,
    CommentInputSerializer,
    ExpectationsInputSerializer,
    NeedInputSerializer,
    ObjectiveInputSerializer,
    PlanSerializer,
    SectionDiffSerializer,
    SignInputSerializer,
    TextInputSerializer,
    VersionSerializer,
)

TAGS = ["Projet personnalisé"]
WRITE_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(DetailSerializer, description="Version validée ou soumise : elle ne peut plus changer."),
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = services.FROZEN_MESSAGE
    default_code = "conflict"


class PPAAPIView(ServiceAPIView):
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.PlanFrozen):
            exc = Conflict(" ".join(exc.messages))
        return super().handle_exception(exc)

    def version(self, request: Request, pk: int, action: str = "read") -> PlanVersion:
        version = PlanVersion.objects.select_related("plan__person").filter(pk=pk).first()
        if version is None:
            raise exceptions.NotFound()
        access.require(request.user, version.plan.person, Category.PPA, action, path=request.path)
        return version

    def item(self, version: PlanVersion, status_code: int = status.HTTP_200_OK) -> Response:
        loaded = selectors.with_sections(PlanVersion.objects.filter(pk=version.pk)).get()
        return Response(VersionSerializer(loaded).data, status=status_code)


class PlanView(PPAAPIView):
    @extend_schema(
        operation_id="ppa_plan_retrieve",
        tags=TAGS,
        summary="Le projet personnalisé d'une personne",
        description="Droit « projet personnalisé » en lecture. Ses versions, de la première à la dernière.",
        responses={200: PlanSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        person = access.get_person_or_404(request.user, pk, Category.PPA, "read", path=request.path)
        plan = Plan.objects.filter(person=person).prefetch_related("versions").first()
        if plan is None:
            raise exceptions.NotFound("Pas encore de projet personnalisé.")
        return Response(PlanSerializer(plan).data)

    @extend_schema(
        operation_id="ppa_plan_create",
        tags=TAGS,
        summary="Commencer le projet personnalisé",
        description="Un professionnel avec le droit en écriture ; une première version brouillon.",
        request=None,
        responses={201: PlanSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        person = access.get_person_or_404(request.user, pk, Category.PPA, "write", path=request.path)
        plan = services.plan_create(actor=request.user, person=person)
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)


class AmendView(PPAAPIView):
    serializer_class = AmendInputSerializer

    @extend_schema(
        operation_id="ppa_plan_amend",
        tags=TAGS,
        summary="Ouvrir un avenant",
        description="Copie la version validée dans un nouveau brouillon, avec son motif.",
        request=AmendInputSerializer,
        responses={201: VersionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        person = access.get_person_or_404(request.user, pk, Category.PPA, "write", path=request.path)
        plan = Plan.objects.filter(person=person).first()
        if plan is None:
            raise exceptions.NotFound("Pas encore de projet personnalisé.")
        data = self.validated(AmendInputSerializer, request.data)
        return self.item(services.plan_amend(actor=request.user, plan=plan, **data), status.HTTP_201_CREATED)


class VersionView(PPAAPIView):
    @extend_schema(
        operation_id="ppa_version_retrieve",
        tags=TAGS,
        summary="Une version et ses parties",
        responses={200: VersionSerializer, **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.item(self.version(request, pk))


class ExpectationsView(PPAAPIView):
    serializer_class = ExpectationsInputSerializer

    @extend_schema(
        operation_id="ppa_expectations_update",
        tags=TAGS,
        summary="Compléter les attentes",
        description="La personne, ses aidants (avec le droit) ou un professionnel ; brouillon seulement.",
        request=ExpectationsInputSerializer,
        responses={200: VersionSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        version = self.version(request, pk, "write")
        data = self.validated(ExpectationsInputSerializer, request.data)
        return self.item(services.expectations_update(actor=request.user, version=version, **data))


class TextSectionView(PPAAPIView):
    serializer_class = TextInputSerializer

    @extend_schema(
        operation_id="ppa_text_section_update",
        tags=TAGS,
        summary="Ressources ou remarques",
        parameters=[
            OpenApiParameter(
                "section", str, OpenApiParameter.PATH, enum=[Section.RESOURCES.value, Section.REMARKS.value]
            )
        ],
        request=TextInputSerializer,
        responses={200: VersionSerializer, **WRITE_ERRORS},
    )
    def put(self, request: Request, pk: int, section: str) -> Response:
        if section not in (Section.RESOURCES, Section.REMARKS):
            raise exceptions.NotFound()
        version = self.version(request, pk, "write")
        data = self.validated(TextInputSerializer, request.data)
        return self.item(services.text_section_update(actor=request.user, version=version, section=section, **data))


def _create_view(name: str, summary: str, serializer, call):
    class CreateView(PPAAPIView):
        serializer_class = serializer

        @extend_schema(
            operation_id=f"ppa_{name}_create",
            tags=TAGS,
            summary=summary,
            request=serializer,
            responses={201: VersionSerializer, **WRITE_ERRORS},
        )
        def post(self, request: Request, pk: int) -> Response:
            version = self.version(request, pk, "write")
            data = self.validated(serializer, request.data)
            call(request.user, version, data)
            return self.item(version, status.HTTP_201_CREATED)

    CreateView.__name__ = f"{name.title()}CreateView"
    return CreateView


NeedCreateView = _create_view(
    "need", "Ajouter un besoin évalué", NeedInputSerializer, lambda u, v, d: services.need_add(actor=u, version=v, **d)
)
ObjectiveCreateView = _create_view(
    "objective",
    "Ajouter un objectif",
    ObjectiveInputSerializer,
    lambda u, v, d: services.objective_add(actor=u, version=v, **d),
)
ActionCreateView = _create_view(
    "action",
    "Ajouter une modalité d'accompagnement",
    ActionInputSerializer,
    lambda u, v, d: services.action_add(actor=u, version=v, **d),
)
CommentCreateView = _create_view(
    "comment",
    "Commenter une partie",
    CommentInputSerializer,
    lambda u, v, d: services.comment_add(actor=u, version=v, **d),
)


class SubmitView(PPAAPIView):
    @extend_schema(
        operation_id="ppa_version_submit",
        tags=TAGS,
        summary="Soumettre à validation",
        request=None,
        responses={200: VersionSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        version = self.version(request, pk, "write")
        return self.item(services.plan_submit(actor=request.user, version=version))


class SignView(PPAAPIView):
    serializer_class = SignInputSerializer

    @extend_schema(
        operation_id="ppa_version_sign",
        tags=TAGS,
        summary="Signer",
        description="La personne ou son représentant légal (`person`), un référent de la structure "
        "(`referent`). La seconde signature valide la version.",
        request=SignInputSerializer,
        responses={200: VersionSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        version = self.version(request, pk)
        data = self.validated(SignInputSerializer, request.data)
        services.plan_sign(actor=request.user, version=version, **data)
        return self.item(version)


class DiffView(PPAAPIView):
    @extend_schema(
        operation_id="ppa_version_diff",
        tags=TAGS,
        summary="Comparer avec une autre version",
        parameters=[OpenApiParameter("against", int, required=True, description="La version de départ (même projet).")],
        responses={200: SectionDiffSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        version = self.version(request, pk)
        try:
            against = int(request.query_params.get("against", ""))
        except ValueError:
            raise exceptions.ValidationError({"against": ["Indiquez la version de départ."]}) from None
        old = PlanVersion.objects.filter(pk=against, plan_id=version.plan_id).first()
        if old is None:
            raise exceptions.ValidationError({"against": ["Version inconnue dans ce projet."]})
        old, new = (selectors.with_sections(PlanVersion.objects.filter(pk=v.pk)).get() for v in (old, version))
        return Response(SectionDiffSerializer(selectors.version_diff(old, new), many=True).data)


def _item_view(name: str, model, serializer, update, remove):
    """PUT (replace) and DELETE of one need, objective or action of a draft."""

    class ItemView(PPAAPIView):
        serializer_class = serializer

        def load(self, request: Request, pk: int):
            item = model.objects.select_related("version__plan__person").filter(pk=pk).first()
            if item is None:
                raise exceptions.NotFound()
            access.require(request.user, item.version.plan.person, Category.PPA, "write", path=request.path)
            return item

        @extend_schema(
            operation_id=f"ppa_{name}_update",
            tags=TAGS,
            summary=f"Modifier ({name})",
            request=serializer,
            responses={200: VersionSerializer, **WRITE_ERRORS},
        )
        def put(self, request: Request, pk: int) -> Response:
            item = self.load(request, pk)
            data = self.validated(serializer, request.data)
            update(request.user, item, data)
            return self.item(item.version)

        @extend_schema(
            operation_id=f"ppa_{name}_delete",
            tags=TAGS,
            summary=f"Retirer ({name})",
            request=None,
            responses={200: VersionSerializer, **WRITE_ERRORS},
        )
        def delete(self, request: Request, pk: int) -> Response:
            item = self.load(request, pk)
            version = item.version
            remove(request.user, item)
            return self.item(version)

    ItemView.__name__ = f"{name.title()}ItemView"
    return ItemView


NeedItemView = _item_view(
    "need",
    Need,
    NeedInputSerializer,
    lambda u, i, d: services.need_update(actor=u, need=i, **d),
    lambda u, i: services.need_remove(actor=u, need=i),
)
ObjectiveItemView = _item_view(
    "objective",
    Objective,
    ObjectiveInputSerializer,
    lambda u, i, d: services.objective_update(actor=u, objective=i, **d),
    lambda u, i: services.objective_remove(actor=u, objective=i),
)
ActionItemView = _item_view(
    "action",
    Action,
    ActionInputSerializer,
    lambda u, i, d: services.action_update(actor=u, action=i, **d),
    lambda u, i: services.action_remove(actor=u, action=i),
)
