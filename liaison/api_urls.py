"""REST API of the liaison notebook, under /api/liaison/."""

from __future__ import annotations

from django.urls import path

from liaison import api

app_name = "liaison_api"

urlpatterns = [
    path("persons/<int:pk>/transmissions/", api.NotebookView.as_view(), name="notebook"),
    path("feed/", api.FeedView.as_view(), name="feed"),
    path("read/", api.MarkReadView.as_view(), name="mark_read"),
    path("transmissions/<int:pk>/", api.TransmissionView.as_view(), name="transmission"),
    path("transmissions/<int:pk>/withdraw/", api.WithdrawView.as_view(), name="withdraw"),
    path("transmissions/<int:pk>/corrections/", api.CorrectionView.as_view(), name="corrections"),
    path("transmissions/<int:pk>/attachments/", api.AttachmentsView.as_view(), name="attachments"),
    path("transmissions/<int:pk>/acknowledge/", api.AcknowledgeView.as_view(), name="acknowledge"),
]
