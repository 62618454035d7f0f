"""Benchmark: the whole-record export of a person with 100,000 transmissions.

Target (issue 21): generating the export streams; memory stays under 300 MB.

    createdb -h 127.0.0.1 -U postgres export_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/export_bench .venv/bin/python bench/export.py

Migrates the database, then (once: a person named BENCH-EXPORT is reused) creates a
structure, a nurse and a person through the services and bulk-inserts --transmissions
transmissions (a third of them with DAR fields, a tenth internal) and as many access-log
rows as --access-log. Then runs the export job's service (`records.services.export_build`)
as the structure administrator, and prints: the wall time, the peak of Python allocations
during the build (tracemalloc), the process's resident set before and after (ru_maxrss is
the peak of the whole process, Django and the ORM included), the ZIP's size and its
number of resources. Exits 1 when the peak resident set is over --limit-mb (300).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transmissions", type=int, default=100_000)
    parser.add_argument("--access-log", type=int, default=20_000)
    parser.add_argument("--limit-mb", type=int, default=300)
    parser.add_argument("--allow-sqlite", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql" and not args.allow_sqlite:
        print("Refusing SQLite (use DATABASE_URL=postgres://…, or --allow-sqlite).")
        return 2
    settings.DEBUG = False  # no query log growing in memory
    call_command("migrate", verbosity=0, interactive=False)

    from coordination import services as kernel
    from coordination.models import AccessLog, Person, Structure, TeamRole
    from liaison.models import Transmission
    from records import services
    from records.models import RecordExport
    from tests.factories import ProfessionalFactory, UserFactory

    person = Person.objects.filter(birth_name="BENCH-EXPORT").first()
    if person is None:
        admin = UserFactory(email="bench-admin@exemple.fr", is_staff=True, is_superuser=True)
        structure = Structure.objects.create(name="EHPAD du banc", finess="750009999", kind="ehpad")
        pro = ProfessionalFactory(user=UserFactory(email="bench-nurse@exemple.fr"), profession="infirmier")
        kernel.team_member_add(
            actor=admin, structure=structure, professional=pro, role=TeamRole.REFERENT, is_structure_admin=True
        )
        person = kernel.person_create(
            actor=admin,
            structure=structure,
            birth_name="BENCH-EXPORT",
            birth_first_names="Jeanne",
            birth_date="1940-01-01",
            sex="F",
        )
        now = timezone.now()
        batch = []
        for i in range(args.transmissions):
            batch.append(
                Transmission(
                    person=person,
                    author=pro.user,
                    author_structure=structure,
                    observed_at=now - timezone.timedelta(minutes=i),
                    category="observations",
                    text=f"Transmission {i} : nuit calme, appétit conservé, pas de douleur signalée ce jour.",
                    data="Tension 12/8." if i % 3 == 0 else "",
                    actions="Hydratation proposée." if i % 3 == 0 else "",
                    results="Bu 200 ml." if i % 3 == 0 else "",
                    scope="internal" if i % 10 == 0 else "shared",
                )
            )
            if len(batch) == 5000:
                Transmission.objects.bulk_create(batch)
                batch = []
        Transmission.objects.bulk_create(batch)
        AccessLog.objects.bulk_create(
            [
                AccessLog(user=pro.user, person=person, category="liaison", action="read", via="normal")
                for _ in range(args.access_log)
            ],
            batch_size=5000,
        )
    requester = Structure.objects.get(finess="750009999").team.filter(is_structure_admin=True).first().professional.user
    count = Transmission.objects.filter(person=person).count()
    export = RecordExport.objects.create(person=person, requested_by=requester)
    services.claim(export.pk)
    before = rss_mb()
    tracemalloc.start()
    started = time.perf_counter()
    export = services.export_build(export.pk)
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = rss_mb()
    print(f"database: {connection.vendor}; transmissions of the person: {count:,}")
    print(f"status: {export.status}; resources: {export.resource_count:,}; files: {export.file_count}")
    print(f"ZIP: {export.size / 1e6:.1f} MB; build: {elapsed:.1f} s")
    print(f"Python allocations, peak during the build (tracemalloc): {peak / 1e6:.1f} MB")
    print(f"resident set, peak of the process: {before:.0f} MB before the build, {after:.0f} MB after")
    export.file.delete(save=False)
    return 0 if after < args.limit_mb else 1


if __name__ == "__main__":
    sys.exit(main())
