"""gunicorn configuration of the portal (read from the working directory, or pass
`-c /opt/portal/gunicorn.conf.py`). Every value can be changed by an environment variable
(deploy/portal.env.example) or on the command line, which wins.

Choices (bench/README.md, "gunicorn configuration"):
- sync workers: every request is short and database-bound (the gate, the access-log
  INSERT); Django's ORM is synchronous, so gthread only shares one GIL among threads. The
  measured runs on this (shared, loaded) machine did not show gthread ahead (load.py:
  2 sync workers 10.9 req/s vs gthread 2×4 6.4 req/s, at a busier moment); re-measure on
  the real host with `bench/throughput.py --worker-class gthread --threads 4`.
- workers: 2 per core + 1 (WEB_CONCURRENCY to change it); each holds one persistent
  PostgreSQL connection (DATABASE_CONN_MAX_AGE), so size PostgreSQL's max_connections
  for hosts × workers + the Celery workers.
- timeout 30 s: no page should take more (uploads are parsed in a child process with its
  own limits); a stuck worker is killed and replaced, the request answers 502.
- workers recycled after ~1,000 requests (jitter so they do not restart together).
- the access log is the portal's own JSON line per request (portal.logs), so gunicorn
  writes only its error log, to standard error.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
# Behind the reverse proxy, which keeps its own connections to the clients.
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 1000))
max_requests_jitter = 100
backlog = 2048
# The proxy's address: only it may say X-Forwarded-Proto (with BEHIND_TLS_PROXY=1).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The application logs each request itself (JSON, request id, duration).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Worker heartbeat files in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - gunicorn creates its own files
# Not preloaded: each worker imports the application itself after the fork (no database
# connection or broker socket shared between processes); a reload is a HUP.
preload_app = False
# No control socket at the shared default path (~/.gunicorn/gunicorn.ctl): two web
# processes on one machine would fight over it. Signals (HUP, TERM) by pid instead.
control_socket_disable = True
