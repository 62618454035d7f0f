from django.urls import path

from admission.views import directory, intake, offer, requests

app_name = "admission"

urlpatterns = [
    # The structure's staff: incoming requests, each request's file and answers.
    path("", requests.incoming, name="incoming"),
    path("demandes/<int:copy_id>/", requests.copy_detail, name="copy"),
    path("demandes/<int:copy_id>/reponse/", requests.copy_answer, name="copy_answer"),
    path("demandes/<int:copy_id>/admission/", requests.copy_admit, name="copy_admit"),
    path("demandes/<int:copy_id>/documents/<int:attachment_id>/", requests.copy_document, name="copy_document"),
    # Taking a person in, and the end of an accompaniment.
    path("accueillir/", intake.admit, name="admit"),
    path("personnes/<int:person_id>/accompagnements/", intake.accompaniments, name="accompaniments"),
    path(
        "personnes/<int:person_id>/accompagnements/<int:accompaniment_id>/fin/",
        intake.accompaniment_end,
        name="accompaniment_end",
    ),
    # The offer directory.
    path("offre/", offer.search, name="offer_search"),
    path("offre/<int:structure_id>/", offer.detail, name="offer_detail"),
    path("structures/<int:structure_id>/offre/", offer.edit, name="offer_edit"),
    # The directory of professionals, to add one to a person's circle.
    path("personnes/<int:person_id>/annuaire-professionnels/", directory.directory, name="directory"),
    path(
        "personnes/<int:person_id>/annuaire-professionnels/<int:professional_id>/ajouter/",
        directory.directory_add,
        name="directory_add",
    ),
    # The requester: « Mes demandes d'admission ».
    path("mes-demandes/", requests.my_requests, name="my_requests"),
    path("mes-demandes/nouvelle/", requests.request_new, name="request_new"),
    path("mes-demandes/<int:request_id>/", requests.my_request, name="my_request"),
    path(
        "mes-demandes/<int:request_id>/demandes/<int:copy_id>/reponse/",
        requests.my_request_answer,
        name="my_request_answer",
    ),
    path(
        "mes-demandes/<int:request_id>/demandes/<int:copy_id>/retrait/",
        requests.my_request_withdraw,
        name="my_request_withdraw",
    ),
    path(
        "mes-demandes/<int:request_id>/documents/<int:attachment_id>/",
        requests.my_request_document,
        name="my_request_document",
    ),
]
