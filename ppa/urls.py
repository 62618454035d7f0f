from django.urls import path

from ppa import views

app_name = "ppa"

urlpatterns = [
    path("personnes/<int:person_id>/", views.plan, name="plan"),
    path("personnes/<int:person_id>/commencer/", views.plan_create, name="create"),
    path("personnes/<int:person_id>/avenant/", views.amend, name="amend"),
    path("personnes/<int:person_id>/historique/", views.history, name="history"),
    path("versions/<int:version_id>/", views.version_detail, name="version"),
    path("versions/<int:version_id>/attentes/", views.expectations_edit, name="expectations"),
    path("versions/<int:version_id>/texte/<str:section>/", views.text_edit, name="text"),
    path("versions/<int:version_id>/commentaires/", views.comment_add, name="comment"),
    path("versions/<int:version_id>/besoins/", views.need_add, name="need_add"),
    path("versions/<int:version_id>/objectifs/", views.objective_add, name="objective_add"),
    path("versions/<int:version_id>/modalites/", views.action_add, name="action_add"),
    path("versions/<int:version_id>/soumettre/", views.submit, name="submit"),
    path("versions/<int:version_id>/signer/", views.sign, name="sign"),
    path("versions/<int:version_id>/agenda/", views.events_generate, name="events"),
    path("versions/<int:version_id>/fiche-mdph/", views.mdph_sheet, name="mdph_sheet"),
    path("versions/<int:version_id>/fiche-mdph/deposer/", views.mdph_sheet_file, name="mdph_sheet_file"),
    path("versions/<int:version_id>/document/", views.document_file, name="document_file"),
    path("besoins/<int:need_id>/retirer/", views.need_remove, name="need_remove"),
    path("objectifs/<int:objective_id>/", views.objective_edit, name="objective_edit"),
    path("objectifs/<int:objective_id>/retirer/", views.objective_remove, name="objective_remove"),
    path("modalites/<int:action_id>/retirer/", views.action_remove, name="action_remove"),
    path("revisions-en-retard/", views.overdue, name="overdue"),
    path("structures/<int:structure_id>/revisions-en-retard/", views.overdue, name="structure_overdue"),
    path("serafin/", views.serafin_search, name="serafin"),
]
