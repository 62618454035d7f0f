"""REST API of the documents, under /api/coordination/ beside the persons."""

from django.urls import path

from documents import api

app_name = "documents_api"

urlpatterns = [
    path("persons/<int:pk>/documents/", api.PersonDocumentsView.as_view(), name="person_documents"),
    path("documents/<int:pk>/", api.DocumentView.as_view(), name="document"),
    path("documents/<int:pk>/validate/", api.DocumentValidateView.as_view(), name="document_validate"),
    path("documents/<int:pk>/mssante/", api.DocumentMssanteView.as_view(), name="document_mssante"),
    path("dmp-shares/<int:pk>/cancel/", api.DmpShareCancelView.as_view(), name="dmp_share_cancel"),
]
