"""Pages of the whole-record app, under /dossier-complet/ (portal/urls.py)."""

from django.urls import path

from records import views

app_name = "records"

urlpatterns = [
    path("personnes/<int:person_id>/transfert/", views.handover, name="handover"),
    path("personnes/<int:person_id>/conservation/", views.legal_hold, name="legal_hold"),
    path("personnes/<int:person_id>/exports/", views.exports, name="exports"),
    path("personnes/<int:person_id>/exports/<int:export_id>/", views.export_detail, name="export_detail"),
    path("personnes/<int:person_id>/exports/<int:export_id>/etat/", views.export_status, name="export_status"),
    path(
        "personnes/<int:person_id>/exports/<int:export_id>/telecharger/",
        views.export_download,
        name="export_download",
    ),
]
