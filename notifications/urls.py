from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("badge/", views.unread_badge, name="badge"),
    path("preferences/", views.notification_preferences, name="preferences"),
    path("tout-lu/", views.notification_mark_all_read, name="mark_all_read"),
    path("<int:notification_id>/", views.notification_open, name="open"),
    path("<int:notification_id>/lue/", views.notification_mark_read, name="mark_read"),
]
