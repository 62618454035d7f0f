"""`make run`'s background jobs: a worker with beat on kombu's filesystem transport.

The whole path (migrate, seed, runserver and the worker started as `make run` starts
them, then the beat sending the demo's queued documents to the simulated DMP by
itself) is checked by `make smoke`; here, the configuration it relies on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _laptop(tmp_path, code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "DATABASE_URL", "DMP_CLIENT"}}
    env.update(
        {
            "DEBUG": "1",
            "VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "CELERY_BROKER_URL": "filesystem://",
            "DMP_CLIENT": "documents.dmp.RecordingClient",
        }
    )
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_filesystem_broker_queues_tasks_in_var_dir_for_the_worker(tmp_path):
    code = (
        "import json\n"
        "from django.conf import settings\n"
        "from portal.health import check_broker\n"
        "from portal.tasks import ping\n"
        "from documents import dmp\n"
        "ping.delay()\n"
        "print(json.dumps({'options': settings.CELERY_BROKER_TRANSPORT_OPTIONS, 'broker': check_broker(),"
        " 'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'simulated': dmp.is_simulated(),"
        " 'beat': sorted(settings.CELERY_BEAT_SCHEDULE)}))\n"
    )
    result = _laptop(tmp_path, code)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["options"]["data_folder_in"] == str(tmp_path / "broker" / "queue")
    assert figures["broker"] == [True, "ok"]
    assert figures["eager"] is False and figures["simulated"] is True
    # The task waits as a message file for the worker: nothing ran in this process.
    assert len(list((tmp_path / "broker" / "queue").iterdir())) == 1
    # Every periodic job of the issue is scheduled.
    for job in (
        "documents-dmp-outbox",
        "documents-mssante-resume",
        "liaison-receipt-reminders",
        "notifications-daily-digest",
        "agenda-release-expired-holds",
        "agenda-refresh-external-calendars",
        "ppa-review-reminders",
    ):
        assert job in figures["beat"]


def test_make_run_starts_the_worker_with_beat_beside_the_server_and_stops_it():
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun: ", 1)[1].split("\n\n", 1)[0]
    assert "$(LAPTOP_WORKER)" in run and "trap stop EXIT" in run and "runserver" in run
    assert "worker -B" in makefile and "filesystem://" in makefile
    smoke = makefile.split("\nsmoke: ", 1)[1]
    assert "$(LAPTOP_WORKER)" in smoke and 'remote_id__startswith="simulated-"' in smoke
