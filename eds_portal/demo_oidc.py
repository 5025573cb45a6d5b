"""A small but real OpenID Connect provider, served over HTTP on a local port: the tests sign in
through it (tests/eds_portal/test_oidc.py), and ``make run`` serves it as the demo's identity
provider (``manage.py serve_demo_oidc``, started by ``serve_demo``). Never for production.

Discovery, JWKS, the authorization endpoint (the person is taken as signed in and consenting),
the token endpoint with client authentication (client_secret_basic), PKCE S256 and single-use
codes, ID tokens signed RS256 (joserfc, Authlib's JOSE library). ``misbehave`` makes it issue a
forged, expired, wrongly addressed or wrongly bound token, to test that the portal refuses them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

# The demo's provider (``make run``): where it listens, its client, the person it signs in.
DEMO_PORT = 8009
DEMO_CLIENT_ID = "eds-portal-demo"
DEMO_CLIENT_SECRET = "demo-oidc-client-secret"  # noqa: S105 (demo only; refused in production)
DEMO_PERSON = {
    "sub": "demo-psc-0001",
    "email": "sophie.sso@demo.eds",
    "email_verified": True,
    "name": "Sophie Sso",
    "given_name": "Sophie",
    "family_name": "Sso",
    "acr": "eidas1",
}


class MiniProvider:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        host: str = "127.0.0.1",
        port: int = 0,
        claims: dict | None = None,
        daemon: bool = True,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})
        self.codes: dict[str, dict] = {}
        self.used_codes: list[str] = []
        self.misbehave: str = ""
        self.claims: dict = dict(claims or {})
        self.token_requests: list[dict] = []
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.issuer = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=daemon)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what the endpoints answer --------------------------------------------------------

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict]:
        required = ("response_type", "client_id", "redirect_uri", "state", "nonce")
        if any(not query.get(name) for name in required) or query["response_type"] != "code":
            return 400, {"error": "invalid_request"}
        if query["client_id"] != self.client_id or "openid" not in query.get("scope", "").split():
            return 400, {"error": "unauthorized_client"}
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {"error": "invalid_request", "error_description": "PKCE S256 required"}
        code = secrets.token_urlsafe(24)
        self.codes[code] = dict(query)
        location = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        return 302, {"Location": location}

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict]:
        self.token_requests.append(form)
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != f"Basic {expected}":
            return 401, {"error": "invalid_client"}
        code = form.get("code", "")
        grant = self.codes.pop(code, None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}  # unknown or replayed code
        self.used_codes.append(code)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier"}
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **self.claims,
        }
        key = self.key
        if self.misbehave == "forged":
            key = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"})
        elif self.misbehave == "wrong_audience":
            claims["aud"] = "another-client"
        elif self.misbehave == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif self.misbehave == "wrong_nonce":
            claims["nonce"] = "not-the-one-sent"
        elif self.misbehave == "wrong_issuer":
            claims["iss"] = "https://elsewhere.example"
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return 200, {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, provider.discovery())
                if url.path == "/jwks":
                    return self._json(200, {"keys": [provider.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    status, body = provider.authorize(query)
                    if status == 302:
                        self.send_response(302)
                        self.send_header("Location", body["Location"])
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    return self._json(status, body)
                return self._json(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path == "/token":
                    status, body = provider.token(form, self.headers.get("Authorization", ""))
                    return self._json(status, body)
                return self._json(404, {"error": "not_found"})

        return Handler
