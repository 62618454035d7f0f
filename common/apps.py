from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Commun"

    def ready(self) -> None:
        from celery.signals import task_postrun
        from django.core.signals import request_finished

        from common.transactional_files import discard_after_work

        # A file stored by a transaction that did not commit is deleted once the request
        # or task that stored it has ended (common.transactional_files).
        request_finished.connect(discard_after_work, dispatch_uid="common.transactional_files.request")
        task_postrun.connect(discard_after_work, dispatch_uid="common.transactional_files.task", weak=False)
