from __future__ import annotations

import pytest

from portal.tasks import ping


@pytest.mark.services
def test_it_runs_a_task_on_a_real_worker_through_the_broker(celery_worker, settings):
    from celery.app.backends import by_url
    from celery.result import AsyncResult

    from portal.celery import app

    # The app may hold the backend of earlier in-process tests: read the result from Redis explicitly.
    backend_cls, url = by_url(settings.CELERY_BROKER_URL, app.loader)
    result = ping.delay()
    assert AsyncResult(result.id, backend=backend_cls(app=app, url=url)).get(timeout=30) == "pong"


def test_it_runs_tasks_in_process_when_no_broker_is_configured(tmp_path):
    """The laptop set-up: no CELERY_BROKER_URL, the task runs at once in the same process."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({"DEBUG": "1", "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "portal.settings"})
    code = "import django; django.setup(); from portal.tasks import ping; print(ping.delay().get(timeout=1))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pong"
