"""The user portal (persons and carers), mounted under /mon-espace/."""

from django.urls import path

from portal import user_views as views

urlpatterns = [
    path("", views.home, name="portal_home"),
    path("choisir/", views.space_choose, name="portal_spaces"),
    path("dossier/", views.record, name="portal_record"),
    path("cahier-de-liaison/", views.notebook, name="portal_notebook"),
    path("cercle/", views.circle, name="portal_circle"),
    path("cercle/membres/<int:member_id>/droits/", views.grants_update, name="portal_grants_update"),
    path("cercle/membres/<int:member_id>/fin/", views.member_end, name="portal_member_end"),
    path("cercle/demandes/<int:request_id>/", views.join_request_answer, name="portal_join_request_answer"),
    path("cercle/delegations/<int:delegation_id>/", views.delegation_answer, name="portal_delegation_answer"),
    path("consentements/", views.consents, name="portal_consents"),
    path("acces/", views.access_log, name="portal_access_log"),
    path("invitations/personnes/<int:person_id>/", views.invitation_create, name="portal_invitation_create"),
    path("invitation/<str:token>/", views.invitation_accept, name="portal_invitation_accept"),
]
