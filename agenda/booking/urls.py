"""Pages of availability and meeting booking (included from agenda/urls.py)."""

from __future__ import annotations

from django.urls import path

from agenda.booking import views

urlpatterns = [
    path("disponibilites/", views.availability_editor, name="availability"),
    path(
        "disponibilites/plage/<int:pk>/supprimer/", views.availability_window_delete, name="availability_window_delete"
    ),
    path(
        "disponibilites/exception/<int:pk>/supprimer/",
        views.availability_exception_delete,
        name="availability_exception_delete",
    ),
    path("disponibilites/professionnel/<int:professional_id>/", views.free_busy, name="free_busy"),
    path("reunions/", views.booking_requests, name="booking_requests"),
    path("reunions/nouvelle/", views.booking_search, name="booking_search"),
    path("reunions/reserver/", views.booking_pick, name="booking_pick"),
    path("reunions/<int:pk>/", views.booking_meeting, name="booking_meeting"),
    path(
        "reunions/<int:pk>/contre-proposition/<int:participant_id>/accepter/",
        views.booking_accept_counter,
        name="booking_accept_counter",
    ),
    path("reunions/<int:pk>/annuler/", views.booking_cancel, name="booking_cancel"),
    path("personne/<int:person_id>/proposer/", views.proposal_create, name="booking_proposal_create"),
    path("propositions/<int:pk>/", views.proposal, name="booking_proposal"),
]
