"""The portal's settings, unchanged, with the bench URLconf and, on request, a query counter.

Everything the portal reads from the environment (DEBUG, SECRET_KEY, DATABASE_URL,
CACHE_URL…) is read by ``portal.settings`` as in production. Only two things differ:

- ``ROOT_URLCONF`` is ``benchsite.urls``: the portal's URLs plus ``/bench/bare/``;
- with ``BENCH_QUERY_COUNT=1``, a first middleware counts the SQL queries of each
  request and their time, and returns them in ``X-Bench-Queries`` and ``X-Bench-SQL-ms``
  (one function call per query: a few microseconds of a request that takes milliseconds,
  paid equally by the bare view).
"""

import os

from portal.settings import *  # noqa: F403
from portal.settings import MIDDLEWARE

ROOT_URLCONF = "benchsite.urls"

if os.environ.get("BENCH_QUERY_COUNT", "") in {"1", "true", "yes", "on"}:
    MIDDLEWARE = ["benchsite.urls.QueryCountMiddleware", *MIDDLEWARE]
