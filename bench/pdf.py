"""Benchmark: the PDF of a typical projet personnalisé (the demo's validated plan) and its
MDPH liaison sheet: generation time and file size.

No design target: the PDF is made by a Celery task after the validation commits, so its
time is a worker's, not a page's. The figures say what the PDF writer costs (issue 14,
item 7: fpdf2 with embedded fonts in place of the hand-written writer).

    export VAR_DIR=$(mktemp -d) DEBUG=1          # or a DATABASE_URL of its own
    .venv/bin/python manage.py migrate --noinput && .venv/bin/python manage.py seed_demo
    .venv/bin/python bench/pdf.py

Uses the validated version of the demo plan (`manage.py seed_demo`: two needs, two
objectives, two weekly actions, expectations, resources, two sign-offs). Renders it
--warmup times, then --runs times, and prints the median and p95 time (wall clock, and the
median CPU time of the process, which a loaded machine inflates less), the size and the
number of pages of each PDF.
"""

from __future__ import annotations

import argparse
import io
import os
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

from pypdf import PdfReader  # noqa: E402

from ppa import documents, services  # noqa: E402
from ppa.models import PlanVersion, VersionStatus  # noqa: E402


def _measure(label: str, render, *, warmup: int, runs: int) -> None:
    for _ in range(warmup):
        render()
    timings, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        data = render()
        cpu.append((time.process_time() - start_cpu) * 1000)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    pages = len(PdfReader(io.BytesIO(data)).pages)
    print(
        f"{label}: median {statistics.median(timings):.1f} ms (CPU {statistics.median(cpu):.1f} ms), "
        f"p95 {p95:.1f} ms, {len(data) / 1024:.1f} KiB, {pages} page(s), {runs} runs"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    version = (
        PlanVersion.objects.filter(status__in=(VersionStatus.VALIDATED, VersionStatus.SUPERSEDED))
        .order_by("pk")
        .first()
    )
    if version is None:
        print("No validated plan version: run `manage.py seed_demo` first.", file=sys.stderr)
        return 1
    _measure("plan_pdf", lambda: documents.plan_pdf(version), warmup=args.warmup, runs=args.runs)
    sheet = services.mdph_sheet_build(version, change="Accueil de jour trois jours par semaine", reason="Fatigue")
    name = version.plan.person.display_name
    _measure("mdph_sheet_pdf", lambda: documents.mdph_sheet_pdf(sheet, name), warmup=args.warmup, runs=args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
