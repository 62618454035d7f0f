from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from portal import views
from portal.api import SwaggerView

admin.site.site_header = "Portail de coordination — administration"
admin.site.site_title = "Administration"
admin.site.index_title = "Données de référence, comptes et support"

urlpatterns = [
    path("", views.home, name="home"),
    path("pro/", views.pro_dashboard, name="pro_dashboard"),
    path("pro/structures/<int:structure_id>/<slug:slug>.csv", views.pro_structure_export, name="pro_structure_export"),
    path("mon-espace/", include("portal.user_portal.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # Signed-in users only (SERVE_PERMISSIONS): the schema tells what the portal holds.
    path("api/docs/", login_required(SwaggerView.as_view(url_name="api_schema")), name="api_docs"),
    path("api/coordination/", include("coordination.api_urls")),
    path("api/coordination/", include("documents.api_urls")),
    path("api/liaison/", include("liaison.api_urls")),
    path("api/ppa/", include("ppa.api_urls")),
    path("api/notifications/", include("notifications.api_urls")),
    path("api/agenda/", include("agenda.booking.api")),
    path("api/agenda/", include("agenda.api_urls")),
    path("coordination/", include("coordination.urls")),
    path("coordination/", include("documents.urls")),
    path("notifications/", include("notifications.urls")),
    path("agenda/", include("agenda.urls")),
    path("ppa/", include("ppa.urls")),
    path("liaison/", include("liaison.urls")),
    path("admission/", include("admission.urls")),
    path("api/admission/", include("admission.api_urls")),
    path("dossier-complet/", include("records.urls")),
    path("api/evaluation/", include("evaluation.api_urls")),
    path("evaluation/", include("evaluation.urls")),
    path("echanges/flux/", include("exchanges.live_urls")),
    path("api/exchanges/", include("exchanges.api_urls")),
    path("echanges/", include("exchanges.urls")),
    # The CI-SIS FHIR facade and the connected software's OAuth token endpoint.
    path("fhir/", include("interop.urls")),
]

handler400 = "portal.views.error_400"
handler403 = "portal.views.error_403"
handler404 = "portal.views.error_404"
handler500 = "portal.views.error_500"
