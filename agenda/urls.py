from django.urls import include, path

from agenda import views

app_name = "agenda"

urlpatterns = [
    path("", views.my_agenda, name="mine"),
    path("personnes/<int:person_id>/", views.person_agenda, name="person"),
    path("personnes/<int:person_id>/nouveau/", views.event_create, name="person_create"),
    path("nouveau/", views.event_create, name="create"),
    path("evenements/<int:event_id>/", views.event_detail, name="event"),
    path("evenements/<int:event_id>/modifier/", views.event_edit, name="edit"),
    path("evenements/<int:event_id>/annuler/", views.event_cancel, name="cancel"),
    path("evenements/<int:event_id>/realise/", views.event_done, name="done"),
    path("evenements/<int:event_id>/repondre/", views.event_respond, name="respond"),
    path("evenements/<int:event_id>/ics/", views.event_ics, name="event_ics"),
    path("abonnements/", views.feeds, name="feeds"),
    path("abonnements/<int:feed_id>/revoquer/", views.feed_revoke, name="feed_revoke"),
    path("ics/<str:token>/", views.feed, name="feed"),
    path("agendas-externes/", views.external_calendars, name="external_calendars"),
    path("agendas-externes/<int:calendar_id>/", views.external_calendar_action, name="external_calendar"),
    path("", include("agenda.booking.urls")),
]
