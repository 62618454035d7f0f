"""REST API of the projet personnalisé, under /api/ppa/."""

from __future__ import annotations

from django.urls import path

from ppa import api

app_name = "ppa_api"

urlpatterns = [
    path("persons/<int:pk>/plan/", api.PlanView.as_view(), name="plan"),
    path("persons/<int:pk>/amendments/", api.AmendView.as_view(), name="amend"),
    path("versions/<int:pk>/", api.VersionView.as_view(), name="version"),
    path("versions/<int:pk>/expectations/", api.ExpectationsView.as_view(), name="expectations"),
    path("versions/<int:pk>/sections/<str:section>/", api.TextSectionView.as_view(), name="text_section"),
    path("versions/<int:pk>/needs/", api.NeedCreateView.as_view(), name="needs"),
    path("versions/<int:pk>/objectives/", api.ObjectiveCreateView.as_view(), name="objectives"),
    path("versions/<int:pk>/actions/", api.ActionCreateView.as_view(), name="actions"),
    path("versions/<int:pk>/comments/", api.CommentCreateView.as_view(), name="comments"),
    path("versions/<int:pk>/submit/", api.SubmitView.as_view(), name="submit"),
    path("versions/<int:pk>/sign/", api.SignView.as_view(), name="sign"),
    path("versions/<int:pk>/diff/", api.DiffView.as_view(), name="diff"),
    path("needs/<int:pk>/", api.NeedItemView.as_view(), name="need"),
    path("objectives/<int:pk>/", api.ObjectiveItemView.as_view(), name="objective"),
    path("actions/<int:pk>/", api.ActionItemView.as_view(), name="action"),
]
