"""Architecture rules as tests (docs/architecture.md): they fail when the layering or the
ownership of each app's vocabulary is broken, whatever a contributor's editor says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from common.notify import blocks, catalogue
from coordination import audit
from coordination.models import AuditEvent

ROOT = Path(__file__).resolve().parent.parent
BLOCK_PREFIXES = ("liaison.", "agenda.", "ppa.", "documents.")


def test_the_import_contracts_hold():
    """`lint-imports` with the contracts of pyproject.toml: common at the bottom, the kernel
    importing only common, portal on top, blocks through each other's services only."""
    result = subprocess.run(
        [Path(sys.executable).parent / "lint-imports", "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_kernel_holds_only_its_own_vocabulary():
    """Audit and notification types of the blocks are declared by the blocks, not by
    coordination: its source names none of them."""
    kernel_values = set(AuditEvent.Type.values)
    for name in ("transmission_created", "event_created", "document_added", "plan_validated"):
        assert name not in kernel_values and audit.is_registered(name)
    for path in (ROOT / "coordination").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for key in catalogue():
            if key.startswith(BLOCK_PREFIXES):
                assert f'"{key}"' not in text, f"{path.relative_to(ROOT)} names the block's type {key}"


def test_every_notification_type_belongs_to_a_registered_block_and_says_nothing_personal():
    known = blocks()
    assert set(known) >= {"circle", "security", "agenda", "ppa", "liaison", "documents"}
    for key, kind in catalogue().items():
        assert kind.block in known and key.startswith(f"{kind.block}."), key
        assert "{" not in kind.message, f"{key}: a notification message is a fixed sentence"
