from django.urls import path

from liaison import views

app_name = "liaison"

urlpatterns = [
    path("", views.feed, name="feed"),
    path("lu/", views.feed_mark_read, name="feed_mark_read"),
    path("personnes/<int:person_id>/", views.notebook, name="notebook"),
    path("transmissions/<int:transmission_id>/", views.transmission_detail, name="transmission"),
    path("transmissions/<int:transmission_id>/modifier/", views.transmission_edit, name="edit"),
    path("transmissions/<int:transmission_id>/retirer/", views.transmission_withdraw, name="withdraw"),
    path("transmissions/<int:transmission_id>/corriger/", views.transmission_correct, name="correct"),
    path("transmissions/<int:transmission_id>/accuse-reception/", views.acknowledge, name="acknowledge"),
    path("pieces-jointes/<int:attachment_id>/", views.attachment, name="attachment"),
    path("pieces-jointes/<int:attachment_id>/vignette/", views.attachment, {"thumbnail": True}, name="thumbnail"),
]
