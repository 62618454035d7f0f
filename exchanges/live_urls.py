"""The live streams of the exchanges (Server-Sent Events), under /echanges/flux/."""

from django.urls import path

from exchanges.views import live

app_name = "exchanges_live"

urlpatterns = [
    path("conversations/<int:pk>/", live.conversation_stream, name="conversation"),
    path("non-lus/", live.unread_stream, name="unread"),
]
