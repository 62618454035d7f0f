"""The HTTP SMS gateway backend, against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from notifications.channels import HTTPGatewaySMSBackend, PermanentError, TransientError


@pytest.fixture
def gateway():
    received = []
    replies = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"auth": self.headers["Authorization"], "json": json.loads(body)})
            self.send_response(replies.pop(0) if replies else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.received, server.replies = received, replies
    server.url = f"http://127.0.0.1:{server.server_port}/sms"
    yield server
    server.shutdown()


def test_it_posts_the_sms_with_the_token(gateway, settings):
    settings.SMS_GATEWAY_URL, settings.SMS_GATEWAY_TOKEN = gateway.url, "jeton"
    HTTPGatewaySMSBackend().send("+33612345678", "Portail de coordination : du nouveau.")
    [request] = gateway.received
    assert request["auth"] == "Bearer jeton"
    assert request["json"]["to"] == "+33612345678" and request["json"]["text"].startswith("Portail")


@pytest.mark.parametrize("status, error", [(503, TransientError), (429, TransientError), (400, PermanentError)])
def test_it_sorts_gateway_failures_into_transient_and_permanent(gateway, settings, status, error):
    settings.SMS_GATEWAY_URL = gateway.url
    gateway.replies.append(status)
    with pytest.raises(error):
        HTTPGatewaySMSBackend().send("+33612345678", "Portail")


def test_it_treats_an_unreachable_gateway_as_transient(settings):
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:1/sms"
    with pytest.raises(TransientError):
        HTTPGatewaySMSBackend().send("+33612345678", "Portail")
