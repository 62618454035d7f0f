from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("personnes/<int:person_id>/", views.person_evaluations, name="person"),
    path("personnes/<int:person_id>/remplir/<slug:code>/", views.evaluation_new, name="new"),
    path("personnes/<int:person_id>/suivi/<slug:code>/", views.instrument_history, name="history"),
    path("evaluations/<int:evaluation_id>/", views.evaluation_detail, name="detail"),
    path("propositions/<int:suggestion_id>/", views.suggestion_decide, name="decide"),
]
