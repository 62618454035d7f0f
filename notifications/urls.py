from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("badge/", views.unread_badge, name="badge"),
    path("preferences/", views.notification_preferences, name="preferences"),
    path("tout-lu/", views.notification_mark_all_read, name="mark_all_read"),
    path("groupe/<str:event_type>/<int:person_id>/", views.notification_group, name="group"),
    path("groupe/<str:event_type>/<int:person_id>/lu/", views.notification_group_mark_read, name="group_mark_read"),
    path("<int:notification_id>/", views.notification_open, name="open"),
    path("<int:notification_id>/lue/", views.notification_mark_read, name="mark_read"),
]
