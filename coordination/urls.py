from django.urls import path

from coordination import views

app_name = "coordination"

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("demande-d-entree/", views.join_request, name="join_request"),
    path("mes-structures/", views.my_structures, name="my_structures"),
    path("structures/<int:structure_id>/traces/", views.structure_access_log, name="structure_access_log"),
    path("personnes/<int:person_id>/", views.person_overview, name="person"),
    path("personnes/<int:person_id>/cercle/", views.circle, name="circle"),
    path("personnes/<int:person_id>/cercle/<int:member_id>/fin/", views.member_end, name="member_end"),
    path("personnes/<int:person_id>/delegations/nouvelle/", views.delegation_create, name="delegation_create"),
    path(
        "personnes/<int:person_id>/delegations/<int:delegation_id>/revoquer/",
        views.delegation_revoke,
        name="delegation_revoke",
    ),
    path("personnes/<int:person_id>/urgence/", views.break_glass, name="break_glass"),
    path("personnes/<int:person_id>/cercle/proposer/", views.invite, name="invite"),
    path("personnes/<int:person_id>/consentements/", views.consents, name="consents"),
]
