from django.urls import include, path

app_name = "agenda"

urlpatterns: list = [
    path("", include("agenda.booking_urls")),
]
