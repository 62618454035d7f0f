"""REST API of the agenda, under /api/agenda/."""

from __future__ import annotations

from django.urls import path

from agenda import api

app_name = "agenda_api"

urlpatterns = [
    path("events/", api.EventsView.as_view(), name="events"),
    path("events/<int:pk>/", api.EventView.as_view(), name="event"),
    path("events/<int:pk>/cancel/", api.CancelView.as_view(), name="cancel"),
    path("feeds/", api.FeedsView.as_view(), name="feeds"),
    path("feeds/<int:pk>/rotate/", api.FeedRotateView.as_view(), name="feed_rotate"),
    path("feeds/<int:pk>/revoke/", api.FeedRevokeView.as_view(), name="feed_revoke"),
]
