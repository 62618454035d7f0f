"""REST API of the notifications, under /api/notifications/."""

from __future__ import annotations

from django.urls import path

from notifications import api

app_name = "notifications_api"

urlpatterns = [
    path("", api.NotificationListView.as_view(), name="list"),
    path("read-all/", api.NotificationReadAllView.as_view(), name="read_all"),
    path("<int:pk>/read/", api.NotificationReadView.as_view(), name="read"),
    path("preferences/", api.PreferenceListView.as_view(), name="preferences"),
    path("preferences/<str:event_type>/", api.PreferenceView.as_view(), name="preference"),
]
