"""The user portal (persons and carers), mounted under /mon-espace/."""

from django.urls import path

from portal import user_block_views as blocks
from portal import user_views as views

urlpatterns = [
    path("", views.home, name="portal_home"),
    path("choisir/", views.space_choose, name="portal_spaces"),
    path("personnes/<int:person_id>/<slug:page>/", views.space_open, name="portal_space_open"),
    path("dossier/", views.record, name="portal_record"),
    path("cahier-de-liaison/", views.notebook, name="portal_notebook"),
    path("cercle/", views.circle, name="portal_circle"),
    path("cercle/membres/<int:member_id>/droits/", views.grants_update, name="portal_grants_update"),
    path("cercle/membres/<int:member_id>/fin/", views.member_end, name="portal_member_end"),
    path("cercle/demandes/<int:request_id>/", views.join_request_answer, name="portal_join_request_answer"),
    path("cercle/delegations/<int:delegation_id>/", views.delegation_answer, name="portal_delegation_answer"),
    path("consentements/", views.consents, name="portal_consents"),
    path("acces/", views.access_log, name="portal_access_log"),
    path("agenda/", blocks.agenda, name="portal_agenda"),
    path("agenda/propositions/<int:event_id>/", blocks.proposal_answer, name="portal_proposal_answer"),
    path("agenda/evenements/<int:event_id>/ics/", blocks.event_ics, name="portal_event_ics"),
    path("agenda/abonnement/", blocks.feed_create, name="portal_feed_create"),
    path("agenda/abonnement/<int:feed_id>/", blocks.feed_action, name="portal_feed_action"),
    path("documents/", blocks.documents, name="portal_documents"),
    path("projet/", blocks.ppa, name="portal_ppa"),
    path("projet/versions/<int:version_id>/attentes/", blocks.ppa_expectations, name="portal_ppa_expectations"),
    path("projet/versions/<int:version_id>/commentaire/", blocks.ppa_comment, name="portal_ppa_comment"),
    path("projet/versions/<int:version_id>/signer/", blocks.ppa_sign, name="portal_ppa_sign"),
    path("invitations/personnes/<int:person_id>/", views.invitation_create, name="portal_invitation_create"),
    path("invitation/<str:token>/", views.invitation_accept, name="portal_invitation_accept"),
]
