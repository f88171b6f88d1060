"""A stand-in for Microsoft's login services on https://127.0.0.1, in its own thread.

It serves what botbuilder and MSAL fetch: the Bot Framework channel's OpenID metadata and signing keys
(JWKS, with per-key channel endorsements), an Entra-style authority (tenant discovery) and its token
endpoint. Tokens for the bot's inbound requests are signed here with test RSA keys. Running in a thread
(not on the test's event loop) lets a test hold an answer and show the bot's loop stays responsive.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

CHANNEL_ISSUER = "https://api.botframework.com"
HOLD_LIMIT_SECONDS = 5.0


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class SigningKey:
    """A key the channel signs with; `endorsements` are the channels it may speak for."""

    kid: str
    private: rsa.RSAPrivateKey = field(default_factory=_rsa_key, repr=False)
    endorsements: tuple[str, ...] = ("msteams", "webchat")

    def jwk(self) -> dict[str, Any]:
        """The public half as published in the JWKS."""
        public = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "endorsements": list(self.endorsements)}


TEAMS_KEY = SigningKey("teams-2026")
WEBCHAT_KEY = SigningKey("webchat-2026", endorsements=("webchat", "directline"))
ROGUE_KEY = SigningKey("rogue")  # never published


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 it signed: (ca.pem, cert.pem, key.pem)."""
    now = datetime.now(UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Custodian test CA")).issuer_name(_name("Custodian test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return paths


class _Gate:
    """Lets a test hold one kind of answer until it says go (at most HOLD_LIMIT_SECONDS)."""

    def __init__(self) -> None:
        self.closed = False
        self.arrived = threading.Event()
        self.opened = threading.Event()
        self.answered = 0

    def pass_through(self) -> None:
        self.arrived.set()
        if self.closed:
            self.opened.wait(HOLD_LIMIT_SECONDS)
        self.answered += 1


class IdentityProvider:
    """`start()`, point the bot at `metadata_url` / `authority` / `login_prefix`, then `close()`."""

    def __init__(self, folder: Path) -> None:
        self.ca_file, cert, key = write_tls_files(folder)
        self.keys = [TEAMS_KEY, WEBCHAT_KEY]
        self.requests: list[tuple[str, str]] = []
        self.token_forms: list[dict[str, str]] = []
        self.tokens_issued: list[str] = []
        self._gates = {"token": _Gate(), "keys": _Gate()}
        self._lock = threading.Lock()
        self._site = uuid.uuid4().hex[:8]  # botbuilder caches metadata by URL for the whole process
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base(self) -> str:
        """https://127.0.0.1:PORT"""
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        """Like https://login.botframework.com/v1/.well-known/openidconfiguration."""
        return f"{self.base}/{self._site}/v1/.well-known/openidconfiguration"

    @property
    def login_prefix(self) -> str:
        """Like https://login.microsoftonline.com/ (a tenant follows)."""
        return f"{self.base}/"

    def authority(self, tenant: str = "botframework.com") -> str:
        """Like https://login.microsoftonline.com/botframework.com."""
        return f"{self.login_prefix}{tenant}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def close(self) -> None:
        """Let held answers go and stop serving."""
        for gate in self._gates.values():
            gate.opened.set()
        self._server.shutdown()
        self._server.server_close()

    def hold(self, kind: str) -> threading.Event:
        """Hold answers of `kind` ("token" or "keys"); returns the event set when one is asked for."""
        self._gates[kind].closed = True
        return self._gates[kind].arrived

    def release(self, kind: str) -> None:
        self._gates[kind].opened.set()

    def answered(self, kind: str) -> int:
        """How many answers of `kind` have been sent (held ones are not)."""
        return self._gates[kind].answered

    def hits(self, suffix: str) -> int:
        """How many requests had a path ending in `suffix`."""
        with self._lock:
            return sum(1 for _, path in self.requests if path.endswith(suffix))

    def channel_token(self, app_id: str, service_url: str, *, key: SigningKey = TEAMS_KEY, algorithm: str = "RS256",
                      lifetime: tuple[timedelta, timedelta] = (timedelta(minutes=-5), timedelta(hours=1)),
                      **claims: Any) -> str:
        """An Authorization header as the Bot Framework channel sends it; `claims` override or add."""
        now = int(time.time())
        payload = {"serviceurl": service_url, "nbf": now + int(lifetime[0].total_seconds()),
                   "exp": now + int(lifetime[1].total_seconds()), "iss": CHANNEL_ISSUER, "aud": app_id, **claims}
        if algorithm == "HS256":
            return f"Bearer {_hmac_with_public_key(payload, key)}"
        signer: Any = None if algorithm == "none" else key.private
        token = jwt.encode(payload, signer, algorithm=algorithm, headers={"kid": key.kid})
        return f"Bearer {token}"

    def _answer(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append((method, path))
        if path == f"/{self._site}/v1/.well-known/openidconfiguration":
            return 200, {"issuer": CHANNEL_ISSUER, "jwks_uri": f"{self.base}/{self._site}/v1/.well-known/keys",
                         "id_token_signing_alg_values_supported": ["RS256"]}
        if path == f"/{self._site}/v1/.well-known/keys":
            self._gates["keys"].pass_through()
            return 200, {"keys": [key.jwk() for key in self.keys]}
        parts = path.strip("/").split("/")
        if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            tenant_base = f"{self.base}/{parts[0]}"
            return 200, {"issuer": f"{tenant_base}/v2.0", "authorization_endpoint": f"{tenant_base}/oauth2/v2.0/authorize",
                         "token_endpoint": f"{tenant_base}/oauth2/v2.0/token"}
        if method == "POST" and parts[1:] == ["oauth2", "v2.0", "token"]:
            self._gates["token"].pass_through()
            with self._lock:
                token = f"bot-token-{len(self.tokens_issued) + 1}"
                self.tokens_issued.append(token)
                self.token_forms.append(form)
            return 200, {"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": token}
        return 404, {"error": "not_found"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hmac_with_public_key(payload: dict[str, Any], key: SigningKey) -> str:
    """The classic key-confusion forgery: HS256 with the published RSA public key as the secret."""
    secret = key.private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signed = f"{_b64(json.dumps({'alg': 'HS256', 'kid': key.kid, 'typ': 'JWT'}).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signed}.{_b64(hmac.new(secret, signed.encode(), hashlib.sha256).digest())}"


def _handler_for(idp: IdentityProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._reply(*idp._answer("GET", self.path.split("?")[0], {}))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            form = {name: values[0] for name, values in parse_qs(body).items()}
            self._reply(*idp._answer("POST", self.path.split("?")[0], form))

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            """Quiet."""

    return Handler
