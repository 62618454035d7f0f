"""Clients of the DMP / Mon espace santé.

The real DMP cannot be reached from this project (it needs a certified connection,
a CPS/e-CPS or a structure certificate and the DMP web services): the outbox, its
delays, cancellation, retries and opposition checks are real, the client is
pluggable (`settings.DMP_CLIENT`, a dotted path). The default client answers "not
configured" and items wait. `RecordingClient` is a **simulated** DMP for tests and
demonstrations: it keeps what it received in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class DmpError(Exception):
    """Base of the client errors."""


class DmpNotConfigured(DmpError):
    """No connection to the DMP is configured: the item waits."""


class DmpUnavailable(DmpError):
    """Transient: the service cannot be reached now; try again later."""


class DmpRejected(DmpError):
    """Permanent: the DMP refused the document."""


@dataclass(frozen=True)
class DmpDocument:
    """What leaves for the DMP: identifiers and metadata, and the file."""

    idempotency_key: str
    person_ins: str
    title: str
    doc_type: str
    document_on: str
    content_type: str
    sha256: str
    content: bytes
    replaces_key: str = ""


class DmpClient(Protocol):
    def publish(self, document: DmpDocument) -> str:
        """Send a document; returns the DMP's identifier for it."""

    def withdraw(self, *, idempotency_key: str, remote_id: str) -> None:
        """Withdraw a document sent earlier (sent in error)."""


class NotConfiguredClient:
    """The default: nothing is configured, so nothing leaves."""

    def publish(self, document: DmpDocument) -> str:
        raise DmpNotConfigured("La connexion au DMP n'est pas configurée sur ce portail.")

    def withdraw(self, *, idempotency_key: str, remote_id: str) -> None:
        raise DmpNotConfigured("La connexion au DMP n'est pas configurée sur ce portail.")


class RecordingClient:
    """Simulated DMP (tests, demonstrations): records what it receives, in memory.

    Set `RecordingClient.available = False` to simulate an outage.
    """

    published: list[DmpDocument] = []
    withdrawn: list[str] = []
    available: bool = True
    is_simulated = True  # the pages say so: nothing leaves the portal

    @classmethod
    def reset(cls) -> None:
        cls.published = []
        cls.withdrawn = []
        cls.available = True

    def publish(self, document: DmpDocument) -> str:
        if not self.available:
            raise DmpUnavailable("DMP injoignable (simulation).")
        type(self).published.append(document)
        return f"simulated-{document.idempotency_key}"

    def withdraw(self, *, idempotency_key: str, remote_id: str) -> None:
        if not self.available:
            raise DmpUnavailable("DMP injoignable (simulation).")
        type(self).withdrawn.append(idempotency_key)


def get_client() -> DmpClient:
    return import_string(settings.DMP_CLIENT)()


def is_simulated() -> bool:
    """The configured client is a simulation (the demo of `make run`)."""
    return bool(getattr(import_string(settings.DMP_CLIENT), "is_simulated", False))
