from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from coordination import news
        from documents import audit_types, notification_types, retention  # noqa: F401
        from documents.selectors import new_since_counter

        news.register("documents", new_since_counter)
