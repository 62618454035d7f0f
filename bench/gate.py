"""Benchmark: the access gate and the matrix's writes (PostgreSQL).

Measures, on a database made by `manage.py seed_scale`, what every gated page pays and
what a change of rights costs:

- `access.require` (read, with the access-log row) for a nurse on a person of her caseload;
- `access.check` of a category she does not hold (the refusal path, no log);
- `persons_visible_to(nurse).count()` (her caseload) and `users_allowed(person, liaison)`;
- `services.grants_set` on an external member (a decider lowers then raises a right);
- `services.team_member_add` then `team_member_end` of a professional in a structure
  accompanying --persons persons (a newcomer joins, then leaves, every circle).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/gate.py

The reads are independent of how the matrix is written; run it on two databases seeded
alike to compare two versions of the code (bench/README.md, "The access gate").
"""

from __future__ import annotations

import argparse
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

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from coordination import access, services  # noqa: E402
from coordination.models import (  # noqa: E402
    Category,
    CircleMember,
    CircleRole,
    Level,
    Person,
    Professional,
    TeamMembership,
    TeamRole,
)


def timed(label: str, func, repeat: int) -> None:
    samples = []
    with CaptureQueriesContext(connection) as queries:
        func()
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    print(f"{label:58} p50 {statistics.median(samples):8.2f} ms  p95 {p95:8.2f} ms  {len(queries):3} queries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--write-repeat", type=int, default=20)
    args = parser.parse_args()

    nurse_membership = (
        TeamMembership.objects.filter(role=TeamRole.NURSE, ended_on__isnull=True)
        .select_related("professional__user")
        .first()
    )
    if nurse_membership is None:
        sys.exit("No nurse in the database: run manage.py seed_scale first.")
    nurse = nurse_membership.professional.user
    person = Person.objects.filter(circle__user=nurse, circle__ended_at__isnull=True).first()
    structure = nurse_membership.structure
    accompanied = Person.objects.filter(
        accompaniments__structure=structure, accompaniments__ended_on__isnull=True
    ).count()
    print(
        f"PostgreSQL {connection.cursor().connection.info.server_version}; nurse {nurse.email}, "
        f"{accompanied} persons accompanied by her structure, caseload {access.persons_visible_to(nurse).count()}"
    )

    timed(
        "require(nurse, person, liaison, read) + log",
        lambda: access.require(nurse, person, Category.LIAISON),
        args.repeat,
    )
    timed(
        "check(nurse, person, circle, write) (refused)",
        lambda: access.check(nurse, person, Category.CIRCLE, "write"),
        args.repeat,
    )
    timed("persons_visible_to(nurse).count()", lambda: access.persons_visible_to(nurse).count(), args.repeat)
    timed(
        "users_allowed(person, liaison) ids",
        lambda: list(access.users_allowed(person, Category.LIAISON).values_list("pk", flat=True)),
        args.repeat,
    )

    admin = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
        email="bench-gate-admin@scale.portail.test"
    )
    if not person.user_id:  # seed_scale's persons have no account: give this one hers, to decide
        account, _ = get_user_model().objects.get_or_create(email=f"bench-gate-person-{person.pk}@scale.portail.test")
        services.person_link_account(actor=admin, person=person, user=account)
        person.refresh_from_db()
    User = get_user_model()
    external_user, _ = User.objects.get_or_create(email="bench-gate-kine@scale.portail.test")
    external, _ = Professional.objects.get_or_create(user=external_user, defaults={"profession": "kinesitherapeute"})
    member = CircleMember.objects.active().filter(person=person, user=external_user).first()
    if member is None and person.user_id:
        member = services.circle_member_add(
            actor=person.user, person=person, role=CircleRole.THERAPIST, professional=external
        )
    decider = person.user
    state = {"level": Level.READ}

    def flip() -> None:
        state["level"] = Level.WRITE if state["level"] == Level.READ else Level.READ
        services.grants_set(actor=decider, member=member, levels={Category.LIAISON: state["level"]})

    if person.user_id:
        timed("grants_set (one category of an external member)", flip, args.write_repeat)
    else:
        print("grants_set: skipped (the measured person has no account to decide)")

    runs = {"n": Professional.objects.filter(user__email__startswith="bench-gate-newcomer-").count()}

    def join_and_leave() -> None:
        # A new professional each time: a first entry in every circle, as in real life.
        runs["n"] += 1
        newcomer = Professional.objects.create(
            user=User.objects.create(email=f"bench-gate-newcomer-{runs['n']}@scale.portail.test"),
            profession="infirmier",
        )
        with transaction.atomic():
            membership = services.team_member_add(
                actor=admin, structure=structure, professional=newcomer, role=TeamRole.NURSE
            )
            services.team_member_end(actor=admin, membership=membership)

    timed(f"team_member_add + team_member_end ({accompanied} circles)", join_and_leave, max(3, args.write_repeat // 4))


if __name__ == "__main__":
    main()
