"""Benchmark: FHIR searches on the person with the most transmissions.

Target (issue #15): `GET /fhir/DocumentReference?patient=X` on the benchmark's person
with 100,000 transmissions answers in under 100 ms median; the design adds the page
targets (p95 under 150 ms) for FHIR searches.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_scale .venv/bin/python bench/fhir.py

on a database filled by `manage.py seed_scale ... --heavy-person-transmissions 100000`
(the script adds --documents record documents to the person once, as rows)
(see bench/README.md), then ANALYZEd.

The caller is, with `--auth token` (the default when the interop tables exist), a
connected software of a structure accompanying the person (made once through
`interop.services.connected_software_create`, kept for later runs), with a bearer token
from the real token endpoint; with `--auth session`, a nurse of that structure signed in
with `force_login` (a database migrated before the interop app has no OAuth tables: the
FHIR reads are the same, through the same gate, without the token check). Django's test
Client requests the real views, after --warmup requests each, --requests times each:

1. DocumentReference?patient=X (notes and documents merged, newest first), first page;
2. its second page, following the `next` link;
3. DocumentReference?patient=X&category=cahier-de-liaison&type=OBS (the notebook only);
4. CareTeam/X;
5. Appointment?patient=X;
6. Patient?_id=X;
7. first, Organization/<the structure> as a baseline: the token check and one row, no gate
   (each page is also printed as a multiple of it, to tell a slow machine from a slow page).

Each request is timed end to end (middleware, token or session, gate, queries, JSON),
with DEBUG off; its SQL queries are counted on one more request. Exits 1 when the
DocumentReference search misses its median (100 ms) or a page its p95 (150 ms). The
gate writes its access-log rows as always (append-only, left alone).
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from coordination.models import Accompaniment, Person, TeamMembership, TeamRole  # noqa: E402
from liaison.models import Transmission  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--person", type=int, help="default: the person with the most transmissions")
    parser.add_argument("--auth", choices=["token", "session"], help="default: token when the interop tables exist")
    parser.add_argument(
        "--documents", type=int, default=200, help="record documents the person should have (added once, default 200)"
    )
    parser.add_argument("--target", type=float, default=100.0, help="median limit of the DocumentReference search")
    parser.add_argument("--p95", type=float, default=150.0)
    return parser.parse_args()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def heaviest_person() -> tuple[int, int]:
    row = (
        Transmission.objects.values("person_id")
        .annotate(n=Count("id"))
        .order_by("-n", "person_id")
        .values_list("person_id", "n")
        .first()
    )
    if row is None:
        raise SystemExit("No transmission in this database: run seed_scale with --heavy-person-transmissions.")
    return row


def ensure_documents(person, structure, wanted: int) -> int:
    """Give the person `wanted` record documents (rows only: the search never opens files)."""
    from django.utils import timezone

    from documents.models import Document, DocumentSource, DocumentStatus

    have = Document.objects.filter(person=person).count()
    if have < wanted:
        author = TeamMembership.objects.filter(structure=structure).first().professional.user
        now = timezone.now()
        Document.objects.bulk_create(
            [
                Document(
                    person=person,
                    doc_type="compte_rendu",
                    title=f"Compte rendu {n}",
                    author=author,
                    author_structure=structure,
                    source=DocumentSource.PROFESSIONAL,
                    file="documents/bench.pdf",
                    original_name="cr.pdf",
                    content_type="application/pdf",
                    size=1000,
                    sha256="0" * 64,
                    status=DocumentStatus.VALIDATED,
                    created_at=now - timezone.timedelta(hours=n * 7),
                    validated_at=now - timezone.timedelta(hours=n * 7),
                )
                for n in range(wanted - have)
            ]
        )
    return max(have, wanted)


def interop_tables() -> bool:
    return "interop_connectedsoftware" in connection.introspection.table_names()


def token_client(structure) -> tuple[Client, dict]:
    from interop import services
    from interop.models import ConnectedSoftware

    software = ConnectedSoftware.objects.filter(structure=structure, name="Bench DUI", is_active=True).first()
    secret = "bench-secret-not-for-production"  # noqa: S105
    if software is None:
        admin = TeamMembership.objects.filter(structure=structure).first().professional.user
        software, _secret = services.connected_software_create(
            actor=admin, structure=structure, name="Bench DUI", client_secret=secret
        )
    credentials = base64.b64encode(f"{software.application.client_id}:{secret}".encode()).decode()
    client = Client()
    response = client.post(
        "/fhir/auth/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {credentials}"
    )
    if response.status_code != 200:
        raise SystemExit(f"token endpoint: {response.status_code} {response.content[:200]!r}")
    return client, {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}


def session_client(structure) -> tuple[Client, dict]:
    member = (
        TeamMembership.objects.filter(structure=structure, ended_on__isnull=True, role=TeamRole.NURSE)
        .select_related("professional__user")
        .first()
        or TeamMembership.objects.filter(structure=structure, ended_on__isnull=True)
        .select_related("professional__user")
        .first()
    )
    client = Client()
    client.force_login(member.professional.user)
    return client, {}


def measure(client: Client, headers: dict, path: str, params: dict, args) -> tuple[list[float], int, float, dict]:
    for _ in range(args.warmup):
        client.get(path, params, **headers)
    timings = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.get(path, params, **headers)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code} {response.content[:300]!r}")
    with CaptureQueriesContext(connection) as queries:
        body = client.get(path, params, **headers).json()
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    return timings, len(queries), sql_ms, body


def main() -> int:
    args = parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run it on PostgreSQL (DATABASE_URL).")
    if args.person:
        person_id, count = args.person, Transmission.objects.filter(person_id=args.person).count()
    else:
        person_id, count = heaviest_person()
    person = Person.objects.get(pk=person_id)
    structure = Accompaniment.objects.filter(person=person, ended_on__isnull=True).first().structure
    auth = args.auth or ("token" if interop_tables() else "session")
    hosts = override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"])
    hosts.enable()
    client, headers = token_client(structure) if auth == "token" else session_client(structure)
    documents = ensure_documents(person, structure, args.documents)
    print(f"person {person_id}: {count:,} transmissions, {documents} documents; caller: {auth} ({structure.name})")
    pages = [
        # Authentication and one row, no gate: the machine's own speed, in the same run.
        ("Organization/X (baseline)", f"/fhir/Organization/{structure.pk}", {}),
        ("DocumentReference?patient (page 1)", "/fhir/DocumentReference", {"patient": person_id}),
        (
            "DocumentReference notebook OBS",
            "/fhir/DocumentReference",
            {"patient": person_id, "category": "cahier-de-liaison", "type": "OBS"},
        ),
        ("CareTeam/X", f"/fhir/CareTeam/{person_id}", {}),
        ("Appointment?patient", "/fhir/Appointment", {"patient": person_id}),
        ("Patient?_id", "/fhir/Patient", {"_id": person_id}),
    ]
    failed = False
    with override_settings(DEBUG=False):
        results = []
        first_body = None
        for label, path, params in pages:
            timings, queries, sql_ms, body = measure(client, headers, path, params, args)
            results.append((label, timings, queries, sql_ms, body))
            if first_body is None and body.get("resourceType") == "Bundle":
                first_body = body
        nxt = [link["url"] for link in first_body["link"] if link["relation"] == "next"]
        if nxt:
            url = nxt[0].split("/fhir/", 1)[1]
            path, query = url.split("?", 1)
            params = dict(pair.split("=", 1) for pair in query.split("&"))
            from urllib.parse import unquote

            params = {k: unquote(v) for k, v in params.items()}
            timings, queries, sql_ms, body = measure(client, headers, f"/fhir/{path}", params, args)
            results.insert(2, ("DocumentReference?patient (page 2)", timings, queries, sql_ms, body))
    baseline = statistics.median(results[0][1])
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (1 min)")
    for label, timings, queries, sql_ms, body in results:
        p50, p95 = statistics.median(timings), percentile(timings, 0.95)
        entries = len(body.get("entry", [])) if body.get("resourceType") == "Bundle" else 1
        limit = args.target if label.startswith("DocumentReference?patient") else args.p95
        ok = p50 <= limit and p95 <= args.p95 or label.startswith("Organization")
        failed |= not ok
        print(
            f"{label:38} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {queries:2} queries ({sql_ms:5.1f} ms SQL)  "
            f"{entries:3} entries  ×{p50 / baseline:4.1f} baseline  {'OK' if ok else 'MISSED'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
