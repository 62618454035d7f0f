"""`manage.py retention [--dry-run]`: archive ended coordinations and destroy what is
past its retention period; with --dry-run, only list what would happen."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from records import retention


class Command(BaseCommand):
    help = (
        "Archive les dossiers dont la coordination est terminée et détruit ce qui a dépassé "
        "sa durée de conservation (--dry-run : liste sans rien changer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Lister sans rien changer.")

    def handle(self, *args, dry_run: bool = False, **options):
        steps = retention.run(dry_run=dry_run)
        prefix = "[simulation] " if dry_run else ""
        for step in steps:
            self.stdout.write(prefix + step.describe())
        if not steps:
            self.stdout.write(prefix + "Rien à archiver ni à détruire.")
