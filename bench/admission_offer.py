"""Benchmark: the offer directory's search over 5,000 structures (issue 18: under 100 ms
median).

    createdb -h 127.0.0.1 -U postgres admission_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/admission_bench DEBUG=1
    .venv/bin/python manage.py migrate --noinput
    .venv/bin/python bench/admission_offer.py --structures 5000

Creates the structures and their offers once (bulk inserts, FINESS numbers prefixed 99),
each with 1 to 6 SERAFIN-PH direct services, spread over 20 departments and ten
postcodes each. Then times what the search page does for one page of results — the
count, the page's 20 rows and their services — for a set of typical searches, --runs
times each after --warmup runs, and prints the median and p95 of each and of all.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.core.paginator import Paginator  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from admission.models import Offer  # noqa: E402
from admission.selectors import offer_search  # noqa: E402
from coordination.models import Structure, StructureKind  # noqa: E402
from reference.models import SerafinCode  # noqa: E402

DEPARTMENTS = [f"{n:02d}" for n in range(1, 20)] + ["75"]
KINDS = [StructureKind.EHPAD, StructureKind.IME, StructureKind.MAS, StructureKind.FAM, StructureKind.SAVS]


@transaction.atomic
def seed(count: int) -> None:
    existing = Structure.objects.filter(finess__startswith="99").count()
    if existing >= count:
        return
    rng = random.Random(18)
    codes = list(SerafinCode.objects.filter(kind="service", depth__gte=2).values_list("pk", flat=True))
    structures = Structure.objects.bulk_create(
        [
            Structure(name=f"Structure banc {n:05d}", finess=f"99{n:07d}", kind=KINDS[n % len(KINDS)])
            for n in range(existing, count)
        ]
    )
    if any(s.pk is None for s in structures):
        structures = list(Structure.objects.filter(finess__startswith="99", offer__isnull=True))
    offers = []
    for n, structure in enumerate(structures):
        department = DEPARTMENTS[n % len(DEPARTMENTS)]
        older = structure.kind == StructureKind.EHPAD
        offers.append(
            Offer(
                structure=structure,
                department=department,
                postcode=f"{department}{n % 10}00",
                city=f"Commune {n % 10}",
                serves_older=older,
                serves_disability=not older,
                age_min=60 if older else rng.choice([None, 6, 18, 20]),
                age_max=None if older else rng.choice([None, 20, 60]),
                capacity=80,
                places_available=rng.choice([0, 0, 0, 1, 2, 5]),
                waiting_list_length=rng.randint(0, 40),
            )
        )
    offers = Offer.objects.bulk_create(offers, batch_size=1000)
    if any(o.pk is None for o in offers):
        offers = list(Offer.objects.filter(structure__finess__startswith="99"))
    through = Offer.services.through
    through.objects.bulk_create(
        [
            through(offer_id=offer.pk, serafincode_id=code)
            for offer in offers
            for code in rng.sample(codes, rng.randint(1, 6))
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )


def searches():
    service = SerafinCode.objects.filter(kind="service", depth=2).order_by("code").first()
    return {
        "everything, page 1": {},
        "department": {"department": "75"},
        "postcode (department + exact first)": {"postcode": "75300"},
        "kind + department + places": {"kind": "ehpad", "department": "05", "with_places": True},
        "public + age": {"public": "handicap", "age": 12},
        "service (with sub-services)": {"service": service},
        "everything, page 50": {"page": 50},
    }


def run(filters: dict) -> None:
    filters = dict(filters)
    page_number = filters.pop("page", 1)
    page = Paginator(offer_search(**filters), 20).get_page(page_number)
    rows = list(page.object_list)
    for offer in rows:
        list(offer.services.all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--structures", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    seed(args.structures)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh statistics after the bulk inserts
            cursor.execute("ANALYZE admission_offer, admission_offer_services, coordination_structure")
    print(
        f"{Offer.objects.filter(is_published=True).count()} published offers, {connection.vendor}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    everything = []
    for label, filters in searches().items():
        for _ in range(args.warmup):
            run(filters)
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            run(filters)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        everything.extend(timings)
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        print(f"{label}: median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms")
    everything.sort()
    p95 = everything[min(len(everything) - 1, int(len(everything) * 0.95))]
    print(f"all searches: median {statistics.median(everything):.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
