"""Benchmark: the professional's day (/pro/) on a seed_scale database (PostgreSQL).

Target (issue 16): a median under 50 ms (p95 under 150 ms, the key pages' target),
with a number of queries that does not depend on the caseload.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a seed_scale database> \\
        .venv/bin/python bench/dashboard.py

Picks the professional whose caseload is the largest (persons whose record they may
read), makes them a structure administrator and fills every section of their day once
(idempotent: a marker title): for --persons persons of their caseload, an alert asking
their receipt, a remarkable event, a meeting waiting for their answer, a hold of theirs
expiring, a proposal to the person, a document to review, a submitted PPA and a
validated one due for review, a join request, a delegation, and an appointment today.
Then, signed in with `force_login` (DEBUG off), requests the real view --warmup times,
then --requests times, and prints each page's median and p95 wall clock, its median SQL
time and its median CPU time (`time.process_time`: this process's Python and database
client, steadier than the wall clock on a shared machine). Exits 1 when the median or
the p95 misses its limit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

import django  # noqa: E402

django.setup()

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from allauth.mfa.utils import is_mfa_enabled  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from agenda.models import EventSource, EventStatus, Participant, ParticipantKind, Response  # noqa: E402
from agenda.services import event_insert  # noqa: E402
from coordination.models import (  # noqa: E402
    CircleMember,
    CircleRole,
    Delegation,
    DelegationStatus,
    JoinRequest,
    Person,
    PersonUserObjectPermission,
    Professional,
    TeamMembership,
    TeamRole,
)
from documents.models import Document, DocumentSource, DocumentStatus  # noqa: E402
from liaison.models import Addressee, Transmission  # noqa: E402
from ppa.models import Plan, PlanVersion, VersionStatus  # noqa: E402

MARKER = "[bench dashboard]"


def busiest_professional() -> Professional:
    row = (
        PersonUserObjectPermission.objects.filter(permission__codename="read_record", user__professional__isnull=False)
        .values("user_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    return Professional.objects.select_related("user").get(user_id=row["user_id"])


@transaction.atomic
def fill_day(pro: Professional, count: int) -> None:
    user = pro.user
    # Administrator and référent of their structure (the PPA signature's role).
    TeamMembership.objects.filter(professional=pro, ended_on__isnull=True).update(
        is_structure_admin=True, role=TeamRole.REFERENT
    )
    colleague = Professional.objects.exclude(pk=pro.pk).select_related("user").first()
    persons = list(
        Person.objects.filter(
            pk__in=PersonUserObjectPermission.objects.filter(user=user, permission__codename="read_record").values(
                "content_object_id"
            )
        ).order_by("pk")[:count]
    )
    # The référent writes their documents and PPA (the "to review" and "to revise" sections).
    writes = list(Permission.objects.filter(codename__in=["write_documents", "write_ppa"]))
    PersonUserObjectPermission.objects.bulk_create(
        [PersonUserObjectPermission(user=user, content_object=p, permission=w) for p in persons for w in writes],
        ignore_conflicts=True,
    )
    if Transmission.objects.filter(text__startswith=MARKER, addressees__user=user).exists():
        return
    now = timezone.now()
    today = timezone.localdate()
    for index, person in enumerate(persons):
        CircleMember.objects.filter(person=person, user=user, ended_at__isnull=True).update(role=CircleRole.REFERENT)
        alert = Transmission.objects.create(
            person=person,
            author=colleague.user,
            observed_at=now,
            created_at=now - timedelta(hours=30),
            category="observations",
            text=f"{MARKER} alerte {index}",
            requests_receipt=True,
        )
        Addressee.objects.create(transmission=alert, user=user)
        Transmission.objects.create(
            person=person,
            author=colleague.user,
            observed_at=now,
            created_at=now,
            category="observations",
            text=f"{MARKER} chute {index}",
            remarkable_event="chute",
        )
        for organiser, invitee, hours in ((colleague, pro, 40), (pro, colleague, 5)):
            start = now + timedelta(days=3, hours=index)
            event_insert(
                created_by=organiser.user,
                participants=[
                    Participant(
                        kind=ParticipantKind.PROFESSIONAL,
                        professional=organiser,
                        is_organiser=True,
                        response=Response.ACCEPTED,
                    ),
                    Participant(kind=ParticipantKind.PROFESSIONAL, professional=invitee),
                ],
                source=EventSource.BOOKING,
                title=f"{MARKER} réunion {index}",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                status=EventStatus.PROPOSED,
                hold_expires_at=now + timedelta(hours=hours),
            )
        event_insert(
            created_by=user,
            participants=[
                Participant(
                    kind=ParticipantKind.PROFESSIONAL, professional=pro, is_organiser=True, response=Response.ACCEPTED
                ),
                Participant(kind=ParticipantKind.PERSON, user_id=person.user_id),
            ],
            source=EventSource.BOOKING,
            person=person,
            title=f"{MARKER} consultation {index}",
            starts_at=now + timedelta(days=6),
            ends_at=now + timedelta(days=6, hours=1),
            status=EventStatus.PROPOSED,
            hold_expires_at=now + timedelta(days=2),
            answer_deadline=now + timedelta(days=2),
        )
        event_insert(
            created_by=user,
            participants=[Participant(kind=ParticipantKind.PROFESSIONAL, professional=pro)],
            person=person,
            title=f"{MARKER} visite {index}",
            starts_at=now + timedelta(minutes=index),
            ends_at=now + timedelta(minutes=index + 30),
        )
        Document.objects.create(
            person=person,
            doc_type="autre",
            title=f"{MARKER} document {index}",
            author=person.user or user,
            source=DocumentSource.PORTAL,
            file="documents/bench.pdf",
            original_name="bench.pdf",
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
            status=DocumentStatus.TO_REVIEW,
        )
        accompaniment = person.accompaniments.filter(ended_on__isnull=True).first()
        plan, _ = Plan.objects.get_or_create(
            person=person,
            defaults={"structure": accompaniment.structure if accompaniment else None, "created_by": user},
        )
        if not plan.versions.exists():
            PlanVersion.objects.create(
                plan=plan,
                number=1,
                status=VersionStatus.VALIDATED,
                created_by=user,
                validated_at=now,
                review_due_on=today + timedelta(days=(index % 90) - 30),
            )
            PlanVersion.objects.create(
                plan=plan, number=2, status=VersionStatus.SUBMITTED, created_by=user, submitted_at=now
            )
        JoinRequest.objects.get_or_create(
            person=person,
            professional=colleague,
            status="pending",
            defaults={"role": "medecin_traitant", "message": MARKER},
        )
        member = CircleMember.objects.filter(person=person, user=user, ended_at__isnull=True).first()
        Delegation.objects.create(
            person=person,
            delegator=member,
            delegate=colleague,
            starts_at=now,
            ends_at=now + timedelta(days=7),
            created_by=user,
            status=DelegationStatus.PENDING,
        )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=30, help="persons of the caseload given an item per section")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--median-ms", type=float, default=50.0)
    parser.add_argument("--p95-ms", type=float, default=150.0)
    parser.add_argument("--profile", metavar="FILE", help="then profile 20 more /pro/ requests (pyinstrument, text)")
    parser.add_argument(
        "--compare", action="append", default=["/liaison/", "/coordination/"], help="other pages measured alike"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("PostgreSQL only (set DATABASE_URL).")
        return 2
    pro = busiest_professional()
    fill_day(pro, args.persons)
    if not is_mfa_enabled(pro.user, types=["totp"]):  # the MFA middleware asks professionals for one
        TOTP.activate(pro.user, generate_totp_secret())
    caseload = PersonUserObjectPermission.objects.filter(user=pro.user, permission__codename="read_record").count()
    print(
        f"{Person.objects.count()} persons, {Transmission.objects.count()} transmissions in the base; "
        f"{pro.user.email}: caseload {caseload}, {args.persons} persons with an item in every section"
    )
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    ok = True
    with override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        client = Client()
        client.force_login(pro.user)
        # The pages compared are measured in the same loop, interleaved: on a loaded
        # machine the ratio says more than the absolute figure.
        paths = ["/pro/", *args.compare]
        times: dict[str, list[float]] = {path: [] for path in paths}
        sql: dict[str, list[float]] = {path: [] for path in paths}
        cpu: dict[str, list[float]] = {path: [] for path in paths}
        counts: dict[str, int] = {}
        for i in range(args.warmup + args.requests):
            for path in paths:
                with CaptureQueriesContext(connection) as queries:
                    started, cpu_started = time.perf_counter(), time.process_time()
                    response = client.get(path)
                    elapsed = (time.perf_counter() - started) * 1000
                    cpu_ms = (time.process_time() - cpu_started) * 1000
                if response.status_code != 200:
                    print(f"{path} answered {response.status_code}")
                    return 2
                if i >= args.warmup:
                    times[path].append(elapsed)
                    cpu[path].append(cpu_ms)
                    sql[path].append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
                counts[path] = len(queries)
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0005)
            with profiler:
                for _ in range(20):
                    client.get("/pro/")
            Path(args.profile).write_text(profiler.output_text(show_all=False, unicode=False, color=False))
    for path in paths:
        median, p95 = statistics.median(times[path]), percentile(times[path], 0.95)
        verdict = ""
        if path == "/pro/":
            ok = median <= args.median_ms and p95 <= args.p95_ms
            verdict = "OK" if ok else "MISSED"
        print(
            f"{path:16} median {median:7.1f} ms  p95 {p95:7.1f} ms  SQL median {statistics.median(sql[path]):6.1f} ms"
            f"  CPU median {statistics.median(cpu[path]):6.1f} ms  {counts[path]} queries  {verdict}"
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
