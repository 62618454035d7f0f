"""REST API of the coordination kernel, under /api/coordination/."""

from __future__ import annotations

from django.urls import path

from coordination import api

app_name = "coordination_api"

urlpatterns = [
    path("persons/", api.PersonListView.as_view(), name="person_list"),
    path("persons/<int:pk>/", api.PersonDetailView.as_view(), name="person_detail"),
    path("persons/<int:pk>/circle/", api.CircleView.as_view(), name="circle"),
    path(
        "persons/<int:pk>/circle/<int:member_id>/grants/",
        api.CircleMemberGrantsView.as_view(),
        name="circle_member_grants",
    ),
    path("persons/<int:pk>/circle/<int:member_id>/end/", api.CircleMemberEndView.as_view(), name="circle_member_end"),
    path("persons/<int:pk>/delegations/", api.PersonDelegationListView.as_view(), name="person_delegations"),
    path("persons/<int:pk>/access-log/", api.PersonAccessLogView.as_view(), name="person_access_log"),
    path("persons/<int:pk>/consents/", api.ConsentsView.as_view(), name="person_consents"),
    path("persons/<int:pk>/break-glass/", api.PersonBreakGlassView.as_view(), name="person_break_glass"),
    path("break-glass/mine/", api.MyBreakGlassView.as_view(), name="my_break_glass"),
    path("join-requests/", api.JoinRequestListView.as_view(), name="join_requests"),
    path("join-requests/mine/", api.MyJoinRequestListView.as_view(), name="my_join_requests"),
    path("join-requests/<int:pk>/answer/", api.JoinRequestAnswerView.as_view(), name="join_request_answer"),
    path("delegations/<int:pk>/answer/", api.DelegationAnswerView.as_view(), name="delegation_answer"),
    path("delegations/<int:pk>/revoke/", api.DelegationRevokeView.as_view(), name="delegation_revoke"),
]
