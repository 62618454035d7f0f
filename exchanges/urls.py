from django.urls import path

from exchanges.views import pro

app_name = "exchanges"

urlpatterns = [
    path("", pro.conversation_list, name="list"),
    path("nouveau/", pro.topic_start, name="topic_start"),
    path("personnes/<int:person_id>/", pro.person_conversations, name="person"),
    path("personnes/<int:person_id>/nouveau/", pro.person_start, name="person_start"),
    path("personnes/<int:person_id>/ecrire/", pro.person_side_start, name="person_side_start"),
    path("<int:conversation_id>/", pro.conversation_detail, name="conversation"),
    path("<int:conversation_id>/messages/", pro.message_post, name="post"),
    path("<int:conversation_id>/lu/", pro.mark_read, name="mark_read"),
    path("<int:conversation_id>/participants/", pro.participants_add, name="participants_add"),
    path("<int:conversation_id>/quitter/", pro.leave, name="leave"),
    path("messages/<int:message_id>/modifier/", pro.message_edit, name="edit"),
    path("messages/<int:message_id>/retirer/", pro.message_withdraw, name="withdraw"),
    path("messages/<int:message_id>/verser/", pro.message_file, name="file"),
    path("pieces-jointes/<int:attachment_id>/", pro.attachment, name="attachment"),
    path("pieces-jointes/<int:attachment_id>/vignette/", pro.attachment, {"thumbnail": True}, name="thumbnail"),
]
