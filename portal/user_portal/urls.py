"""The user portal (persons and carers), mounted under /mon-espace/."""

from django.urls import path

from portal.user_portal.views import (
    access_log,
    agenda,
    circle,
    consents,
    documents,
    home,
    invitations,
    messages,
    notebook,
    ppa,
    record,
)

urlpatterns = [
    path("", home.home, name="portal_home"),
    path("choisir/", home.space_choose, name="portal_spaces"),
    path("personnes/<int:person_id>/<slug:page>/", home.space_open, name="portal_space_open"),
    path("dossier/", record.record, name="portal_record"),
    path("cahier-de-liaison/", notebook.notebook, name="portal_notebook"),
    path("messages/", messages.message_list, name="portal_messages"),
    path("messages/ecrire/", messages.message_new, name="portal_message_new"),
    path("messages/<int:conversation_id>/", messages.conversation, name="portal_conversation"),
    path("messages/<int:conversation_id>/repondre/", messages.conversation_reply, name="portal_conversation_reply"),
    path("cercle/", circle.circle, name="portal_circle"),
    path("cercle/membres/<int:member_id>/droits/", circle.grants_update, name="portal_grants_update"),
    path("cercle/membres/<int:member_id>/fin/", circle.member_end, name="portal_member_end"),
    path("cercle/demandes/<int:request_id>/", circle.join_request_answer, name="portal_join_request_answer"),
    path("cercle/delegations/<int:delegation_id>/", circle.delegation_answer, name="portal_delegation_answer"),
    path("consentements/", consents.consents, name="portal_consents"),
    path("acces/", access_log.access_log, name="portal_access_log"),
    path("agenda/", agenda.agenda, name="portal_agenda"),
    path("agenda/propositions/<int:event_id>/", agenda.proposal_answer, name="portal_proposal_answer"),
    path("agenda/evenements/<int:event_id>/ics/", agenda.event_ics, name="portal_event_ics"),
    path("agenda/mes-rendez-vous/", agenda.own_appointment_create, name="portal_own_appointment_create"),
    path(
        "agenda/mes-rendez-vous/<int:event_id>/annuler/",
        agenda.own_appointment_cancel,
        name="portal_own_appointment_cancel",
    ),
    path("agenda/abonnement/", agenda.feed_create, name="portal_feed_create"),
    path("agenda/abonnement/<int:feed_id>/", agenda.feed_action, name="portal_feed_action"),
    path("documents/", documents.documents, name="portal_documents"),
    path("projet/", ppa.ppa, name="portal_ppa"),
    path("projet/versions/<int:version_id>/attentes/", ppa.ppa_expectations, name="portal_ppa_expectations"),
    path("projet/versions/<int:version_id>/commentaire/", ppa.ppa_comment, name="portal_ppa_comment"),
    path("projet/versions/<int:version_id>/signer/", ppa.ppa_sign, name="portal_ppa_sign"),
    path("invitations/personnes/<int:person_id>/", invitations.invitation_create, name="portal_invitation_create"),
    path("invitation/<str:token>/", invitations.invitation_accept, name="portal_invitation_accept"),
]
