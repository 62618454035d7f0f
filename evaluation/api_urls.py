"""REST API of the evaluation block, under /api/evaluation/."""

from __future__ import annotations

from django.urls import path

from evaluation import api

app_name = "evaluation_api"

urlpatterns = [
    path("questionnaires/", api.QuestionnairesView.as_view(), name="questionnaires"),
    path("persons/<int:pk>/evaluations/", api.PersonEvaluationsView.as_view(), name="person_evaluations"),
    path("evaluations/<int:pk>/", api.EvaluationView.as_view(), name="evaluation"),
]
