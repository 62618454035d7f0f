from django.urls import path

from admission.views import intake

app_name = "admission"

urlpatterns = [
    path("accueillir/", intake.admit, name="admit"),
    path("personnes/<int:person_id>/accompagnements/", intake.accompaniments, name="accompaniments"),
    path(
        "personnes/<int:person_id>/accompagnements/<int:accompaniment_id>/fin/",
        intake.accompaniment_end,
        name="accompaniment_end",
    ),
]
