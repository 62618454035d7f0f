"""A local OpenID Connect provider for the national sign-in tests, over real HTTP.

It plays Pro Santé Connect (`kind="psc"`: discovery at the non-standard
`…/.well-known/wallet-openid-configuration`, RS256, userinfo as a signed JWT or JSON,
`SubjectNameID`) or FranceConnect+ (`kind="fcplus"`: ES256, id_token and userinfo signed
then encrypted with RSA-OAEP/A256GCM for the portal's published key). It issues
single-use codes bound to the redirect URI and the PKCE challenge, checks the client's
credentials at the token endpoint and bearer tokens at userinfo, and serves its JWKS.

Written here rather than taken from PyPI: django-oauth-toolkit signs with RS256 or HS256
only and answers userinfo in JSON, and the mock providers on PyPI do not encrypt; none
serves a discovery document under another name. Tokens are made with jwcrypto, a JOSE
implementation independent of the portal's (joserfc), so the two check each other.

Knobs a test turns to make it misbehave: `acr`, `nonce_override`, `forge` (sign with an
unknown key under the real key id), `id_token_lifetime`, `userinfo_format`,
`encrypt_for` (another key than the portal's), `encrypt` (off: plain signed tokens),
`raw_id_token` (sent as it is).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from functools import cache
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from jwcrypto import jwk
from jwcrypto import jwt as jjwt


@cache
def _key(kind: str, name: str) -> jwk.JWK:
    # Generated once per test run: RSA generation takes a noticeable fraction of a second.
    if kind == "RSA":
        return jwk.JWK.generate(kty="RSA", size=2048, kid=name)
    return jwk.JWK.generate(kty="EC", crv="P-256", kid=name)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class LocalProvider:
    def __init__(self, kind: str, *, client_id: str = "portail-test", client_secret: str = "s3cret-de-test"):
        assert kind in ("psc", "fcplus")
        self.kind = kind
        self.client_id = client_id
        self.client_secret = client_secret
        self.alg = "RS256" if kind == "psc" else "ES256"
        key_type = "RSA" if kind == "psc" else "EC"
        self.signing_key = _key(key_type, f"{kind}-signature")
        self.forger_key = _key(key_type, f"{kind}-forger")
        self.acr: str | None = "eidas1" if kind == "psc" else "eidas2"
        self.identity: dict = {}
        self.nonce_override: str | None = None
        self.forge: set[str] = set()
        self.id_token_lifetime = 300
        self.userinfo_format = "jwt"
        self.encrypt = kind == "fcplus"
        self.encrypt_for: jwk.JWK | None = None
        self.portal_jwks: dict | None = None
        self.raw_id_token: str | None = None
        self.requests: list[tuple[str, str]] = []
        self.authorizations: list[dict[str, str]] = []
        self._codes: dict[str, dict] = {}
        self._tokens: dict[str, dict] = {}
        self._server: WSGIServer | None = None

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> LocalProvider:
        self._server = make_server(
            "127.0.0.1", 0, self._app, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        port = self._server.server_address[1]
        path = "/auth/realms/esante-wallet" if self.kind == "psc" else "/api/v2"
        self.issuer = f"http://127.0.0.1:{port}{path}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def discovery_path(self) -> str:
        name = "wallet-openid-configuration" if self.kind == "psc" else "openid-configuration"
        return f"{urlsplit(self.issuer).path}/.well-known/{name}"

    # --- HTTP ------------------------------------------------------------------------
    def _app(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.requests.append((method, path))
        base = urlsplit(self.issuer).path
        routes = {
            ("GET", self.discovery_path): self._discovery,
            ("GET", f"{base}/jwks"): self._jwks,
            ("GET", f"{base}/authorize"): self._authorize,
            ("POST", f"{base}/token"): self._token,
            ("GET", f"{base}/userinfo"): self._userinfo,
        }
        handler = routes.get((method, path))
        if handler is None:
            status, headers, body = "404 Not Found", [("Content-Type", "text/plain")], b"not found"
        else:
            status, headers, body = handler(environ)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _json(data, status: str = "200 OK"):
        return status, [("Content-Type", "application/json")], json.dumps(data).encode()

    def _discovery(self, environ):
        return self._json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [self.alg],
                "userinfo_signing_alg_values_supported": [self.alg],
                "token_endpoint_auth_methods_supported": (
                    ["client_secret_basic"] if self.kind == "psc" else ["client_secret_post"]
                ),
                "acr_values_supported": ["eidas1"] if self.kind == "psc" else ["eidas2", "eidas3"],
                "code_challenge_methods_supported": ["S256"],
                **(
                    {
                        "id_token_encryption_alg_values_supported": ["RSA-OAEP"],
                        "id_token_encryption_enc_values_supported": ["A256GCM"],
                        "userinfo_encryption_alg_values_supported": ["RSA-OAEP"],
                        "userinfo_encryption_enc_values_supported": ["A256GCM"],
                    }
                    if self.kind == "fcplus"
                    else {}
                ),
            }
        )

    def _jwks(self, environ):
        public = json.loads(self.signing_key.export_public())
        return self._json({"keys": [{**public, "use": "sig", "alg": self.alg}]})

    def _authorize(self, environ):
        params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.authorizations.append(params)
        if (
            params.get("client_id") != self.client_id
            or params.get("response_type") != "code"
            or "openid" not in params.get("scope", "").split()
            or not params.get("redirect_uri")
        ):
            return "400 Bad Request", [("Content-Type", "text/plain")], b"invalid_request"
        # The person "authenticates" at once as `self.identity`.
        code = secrets.token_urlsafe(24)
        self._codes[code] = {"params": params, "identity": dict(self.identity)}
        location = f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params.get('state', '')})}"
        return "302 Found", [("Location", location)], b""

    def _client_authenticated(self, environ, form) -> bool:
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)

    def _token(self, environ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()}
        if not self._client_authenticated(environ, form):
            return self._json({"error": "invalid_client"}, "401 Unauthorized")
        grant = self._codes.pop(form.get("code", ""), None)  # single use
        if form.get("grant_type") != "authorization_code" or grant is None:
            return self._json({"error": "invalid_grant"}, "400 Bad Request")
        params = grant["params"]
        if form.get("redirect_uri") != params["redirect_uri"]:
            return self._json({"error": "invalid_grant"}, "400 Bad Request")
        if "code_challenge" in params:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != params["code_challenge"]:
                return self._json({"error": "invalid_grant"}, "400 Bad Request")
        identity = grant["identity"]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": identity["sub"],
            "aud": self.client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + self.id_token_lifetime,
            "nonce": self.nonce_override if self.nonce_override is not None else params.get("nonce"),
        }
        if self.acr is not None:
            claims["acr"] = self.acr
        access_token = secrets.token_urlsafe(24)
        self._tokens[access_token] = identity
        id_token = self.raw_id_token or self._seal(claims, forged="id_token" in self.forge)
        return self._json(
            {"access_token": access_token, "token_type": "Bearer", "expires_in": 60, "id_token": id_token}
        )

    def _userinfo(self, environ):
        header = environ.get("HTTP_AUTHORIZATION", "")
        identity = self._tokens.get(header[7:]) if header.startswith("Bearer ") else None
        if identity is None:
            return self._json({"error": "invalid_token"}, "401 Unauthorized")
        if self.userinfo_format == "json":
            return self._json(identity)
        claims = {**identity, "iss": self.issuer, "aud": self.client_id}
        token = self._seal(claims, forged="userinfo" in self.forge)
        return "200 OK", [("Content-Type", "application/jwt")], token.encode()

    # --- JOSE ------------------------------------------------------------------------
    def _seal(self, claims: dict, *, forged: bool) -> str:
        key = self.forger_key if forged else self.signing_key
        signed = jjwt.JWT(header={"alg": self.alg, "kid": self.signing_key.key_id, "typ": "JWT"}, claims=claims)
        signed.make_signed_token(key)
        token = signed.serialize()
        if not self.encrypt:
            return token
        recipient = self.encrypt_for or jwk.JWK(**self.portal_jwks["keys"][0])
        encrypted = jjwt.JWT(
            header={"alg": "RSA-OAEP", "enc": "A256GCM", "cty": "JWT", "kid": recipient.key_id}, claims=token
        )
        encrypted.make_encrypted_token(recipient)
        return encrypted.serialize()
