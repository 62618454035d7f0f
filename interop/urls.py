"""The FHIR endpoint, under /fhir/ (portal/urls.py)."""

from django.urls import path, re_path
from oauth2_provider.views import RevokeTokenView, TokenView

from interop import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("auth/token", TokenView.as_view(), name="token"),
    path("auth/revoke", RevokeTokenView.as_view(), name="revoke"),
    re_path(r"^Patient/(?P<resource_id>[0-9]{1,18})/\$everything/?$", views.patient_everything, name="everything"),
    re_path(r"^(?P<resource_type>[A-Z][A-Za-z]{1,39})/?$", views.type_endpoint, name="type"),
    re_path(
        r"^(?P<resource_type>[A-Z][A-Za-z]{1,39})/(?P<resource_id>[A-Za-z0-9\-.]{1,64})/?$",
        views.instance_endpoint,
        name="instance",
    ),
]
