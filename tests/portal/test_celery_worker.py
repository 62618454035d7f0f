from __future__ import annotations

import pytest

from portal.tasks import ping


@pytest.mark.services
def test_it_runs_a_task_on_a_real_worker_through_the_broker(celery_worker):
    result = ping.delay()
    assert result.get(timeout=30) == "pong"


def test_it_runs_tasks_in_process_when_no_broker_is_configured(settings):
    if settings.CELERY_BROKER_URL:
        pytest.skip("a broker is configured: tasks go to workers")
    assert ping.delay().get(timeout=1) == "pong"
