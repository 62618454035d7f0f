"""REST API of the exchanges, under /api/exchanges/."""

from __future__ import annotations

from django.urls import path

from exchanges import api

app_name = "exchanges_api"

urlpatterns = [
    path("conversations/", api.ConversationListView.as_view(), name="conversations"),
    path("conversations/<int:pk>/", api.ConversationView.as_view(), name="conversation"),
    path("conversations/<int:pk>/messages/", api.MessagesView.as_view(), name="messages"),
    path("conversations/<int:pk>/participants/", api.ParticipantsView.as_view(), name="participants"),
    path("conversations/<int:pk>/read/", api.ReadView.as_view(), name="read"),
]
