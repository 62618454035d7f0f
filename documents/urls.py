"""Professionals' pages of the documents, under /coordination/ beside the record."""

from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    path("personnes/<int:person_id>/documents/", views.document_list, name="list"),
    path("documents/a-examiner/", views.documents_inbox, name="inbox"),
    path("documents/<int:document_id>/", views.document_detail, name="detail"),
    path("documents/<int:document_id>/telecharger/", views.download, name="download"),
    path("documents/<int:document_id>/valider/", views.document_validate, name="validate"),
    path("documents/<int:document_id>/nouvelle-version/", views.document_new_version, name="new_version"),
    path("documents/<int:document_id>/retirer/", views.document_withdraw, name="withdraw"),
    path("documents/<int:document_id>/examiner/", views.document_review, name="review"),
    path("documents/<int:document_id>/mssante/", views.document_send_mssante, name="send_mssante"),
    path("dmp/<int:share_id>/annuler/", views.dmp_share_cancel, name="dmp_share_cancel"),
]
