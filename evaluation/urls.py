from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("personnes/<int:person_id>/", views.person_evaluations, name="person"),
    path("personnes/<int:person_id>/remplir/<slug:code>/", views.evaluation_new, name="new"),
    path("personnes/<int:person_id>/suivi/<slug:code>/", views.instrument_history, name="history"),
    path("evaluations/<int:evaluation_id>/", views.evaluation_detail, name="detail"),
    path("propositions/<int:suggestion_id>/", views.suggestion_decide, name="decide"),
    path("structures/<int:structure_id>/satisfaction/", views.structure_satisfaction, name="structure_satisfaction"),
    path(
        "structures/<int:structure_id>/satisfaction/<int:campaign_id>/",
        views.campaign_results,
        name="campaign_results",
    ),
    path("orientation/", views.referral_new, name="referral_new"),
    path("structures/<int:structure_id>/orientations/", views.referral_queue, name="referral_queue"),
    path("structures/<int:structure_id>/questionnaires/", views.builder, name="builder"),
    path(
        "structures/<int:structure_id>/questionnaires/<int:questionnaire_id>/",
        views.builder_edit,
        name="builder_edit",
    ),
    path("mes-questionnaires/", views.my_questionnaires, name="my_questionnaires"),
    path("satisfaction/<str:token>/", views.satisfaction_answer, name="satisfaction_answer"),
]
