from django.urls import path

from coordination import document_views, views

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
    path("personnes/<int:person_id>/documents/", document_views.document_list, name="documents"),
    path("documents/a-examiner/", document_views.documents_inbox, name="documents_inbox"),
    path("documents/<int:document_id>/", document_views.document_detail, name="document"),
    path("documents/<int:document_id>/telecharger/", document_views.download, name="document_download"),
    path("documents/<int:document_id>/valider/", document_views.document_validate, name="document_validate"),
    path(
        "documents/<int:document_id>/nouvelle-version/",
        document_views.document_new_version,
        name="document_new_version",
    ),
    path("documents/<int:document_id>/retirer/", document_views.document_withdraw, name="document_withdraw"),
    path("documents/<int:document_id>/examiner/", document_views.document_review, name="document_review"),
    path("documents/<int:document_id>/mssante/", document_views.document_send_mssante, name="document_send_mssante"),
    path("dmp/<int:share_id>/annuler/", document_views.dmp_share_cancel, name="dmp_share_cancel"),
]
