"""REST API of the admission block, under /api/admission/."""

from __future__ import annotations

from django.urls import path

from admission import api

app_name = "admission_api"

urlpatterns = [
    path("persons/", api.AdmitView.as_view(), name="admit"),
    path("accompaniments/<int:pk>/end/", api.AccompanimentEndView.as_view(), name="accompaniment_end"),
    path("offers/", api.OfferListView.as_view(), name="offers"),
    path("requests/", api.RequestListView.as_view(), name="requests"),
    path("requests/<int:pk>/copies/<int:copy_id>/withdraw/", api.RequestWithdrawView.as_view(), name="withdraw"),
    path("requests/<int:pk>/copies/<int:copy_id>/reply/", api.RequestReplyView.as_view(), name="reply"),
    path("incoming/", api.IncomingListView.as_view(), name="incoming"),
    path("incoming/<int:pk>/", api.IncomingDetailView.as_view(), name="incoming_detail"),
    path("incoming/<int:pk>/answer/", api.IncomingAnswerView.as_view(), name="incoming_answer"),
    path("incoming/<int:pk>/admit/", api.IncomingAdmitView.as_view(), name="incoming_admit"),
]
