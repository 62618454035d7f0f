"""The portal's URLs plus the bare view ``/bench/bare/`` (and the query-count middleware).

The bare view is the floor a page is compared with: it goes through the same middleware
(session, authentication, idle timeout, mandatory MFA, CSP…) and only checks that the
session is signed in, then answers a few bytes without a template: "ok <user id>
<professional id or ->" (the load test uses them to address transmissions and invite
its own users; the professional is the account's one-to-one ``professional``, read only
if present).
"""

import time

from django.db import connection
from django.http import HttpResponse
from django.urls import path

from portal.urls import handler400, handler403, handler404, handler500
from portal.urls import urlpatterns as portal_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def bare(request):
    if not request.user.is_authenticated:
        return HttpResponse("signed out\n", status=403, content_type="text/plain")
    professional = getattr(request.user, "professional", None)
    return HttpResponse(f"ok {request.user.pk} {getattr(professional, 'pk', '-')}\n", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *portal_urlpatterns]


class QueryCountMiddleware:
    """The SQL of the whole request, middleware included: X-Bench-Queries (count),
    X-Bench-SQL-ms (their time), X-Bench-SQL-Slowest-ms and X-Bench-SQL-Slowest (the
    slowest one, its first 400 characters on one line, without its parameters)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        stats = {"count": 0, "total": 0.0, "slowest": 0.0, "sql": ""}

        def count(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                elapsed = time.perf_counter() - started
                stats["count"] += 1
                stats["total"] += elapsed
                if elapsed > stats["slowest"]:
                    stats["slowest"], stats["sql"] = elapsed, sql

        with connection.execute_wrapper(count):
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(stats["count"])
        response["X-Bench-SQL-ms"] = f"{stats['total'] * 1000:.1f}"
        response["X-Bench-SQL-Slowest-ms"] = f"{stats['slowest'] * 1000:.1f}"
        response["X-Bench-SQL-Slowest"] = " ".join(str(stats["sql"]).split())[:400].encode("ascii", "replace").decode()
        return response
