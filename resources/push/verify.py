"""Checking a pushed message before anything of it is kept.

A message is accepted only when every check holds: it is an SNS envelope of a known type; its
SignatureVersion is 2; its SigningCertURL names an allowed host over https (or an origin allowed over
http); the certificate there is valid now and its key verifies the Signature over SNS's string to sign
(RSA PKCS#1 v1.5, SHA-256, with `cryptography`). Anything else is :class:`Refused` with the reason.
"""

from __future__ import annotations

import base64
import binascii
import threading
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

import httpx
import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
_SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
_SIGNED["UnsubscribeConfirmation"] = _SIGNED["SubscriptionConfirmation"]
_REQUIRED = ("Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL")
_CERT_CACHE_SIZE = 16


class Refused(Exception):
    """The message failed a check; the text says which."""


def signed_text(envelope: dict) -> bytes:
    """SNS's string to sign of ``envelope``: each signed field present, ``name\\nvalue\\n``, in order."""
    fields = _SIGNED[envelope["Type"]]
    return "".join(f"{k}\n{envelope[k]}\n" for k in fields if envelope.get(k) is not None).encode()


class MessageVerifier:
    """Checks envelopes against the allowed certificate hosts; certificates are fetched once per URL."""

    def __init__(self, cert_hosts: tuple[str, ...], http: httpx.Client | None = None):
        self.cert_hosts = cert_hosts
        self._http = http or httpx.Client(timeout=5.0, follow_redirects=False)
        self._certs: dict[str, x509.Certificate] = {}
        self._lock = threading.Lock()

    def parse(self, body: bytes) -> dict:
        """The envelope of ``body``, its fields checked; Refused when it is not one."""
        try:
            envelope = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise Refused("the body is not JSON") from None
        if not isinstance(envelope, dict):
            raise Refused("the body is not an SNS envelope (a JSON object)")
        missing = [k for k in _REQUIRED if not isinstance(envelope.get(k), str) or not envelope[k]]
        if missing:
            raise Refused(f"the envelope lacks {', '.join(missing)}")
        if envelope["Type"] not in TYPES:
            raise Refused(f"unknown message Type {envelope['Type']!r}")
        if envelope["SignatureVersion"] != "2":
            raise Refused(f"SignatureVersion {envelope['SignatureVersion']!r} is not accepted (only 2: SHA-256)")
        return envelope

    def verify(self, body: bytes) -> dict:
        """The verified envelope of ``body``; Refused naming the first check that failed."""
        envelope = self.parse(body)
        try:
            signature = base64.b64decode(envelope["Signature"], validate=True)
        except (binascii.Error, ValueError):
            raise Refused("the Signature is not base64") from None
        key = self._certificate(envelope["SigningCertURL"]).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Refused("the signing certificate's key is not RSA")
        try:
            key.verify(signature, signed_text(envelope), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise Refused("the Signature does not match the message (forged or altered)") from None
        return envelope

    def allowed(self, url: str) -> bool:
        """Whether ``url`` (a SigningCertURL or SubscribeURL) is on the allow-list."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        for entry in self.cert_hosts:
            if entry.startswith("http://"):
                if parts.scheme == "http" and f"{host}:{parts.port}" == entry.removeprefix("http://"):
                    return True
            elif parts.scheme == "https" and fnmatchcase(host, entry):
                return True
        return False

    def _certificate(self, url: str) -> x509.Certificate:
        if not self.allowed(url):
            raise Refused(f"the SigningCertURL's host is not allowed ({urlsplit(url).netloc}); "
                          "COFASYNC_PUSH_CERT_HOSTS lists the allowed ones")
        with self._lock:
            cert = self._certs.get(url)
        if cert is None:
            try:
                response = self._http.get(url)
                response.raise_for_status()
                cert = x509.load_pem_x509_certificate(response.content)
            except (httpx.HTTPError, ValueError) as exc:
                raise Refused(f"the signing certificate could not be read from {url}: {exc}") from None
            with self._lock:
                if len(self._certs) >= _CERT_CACHE_SIZE:
                    self._certs.clear()
                self._certs[url] = cert
        now = datetime.now(UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise Refused("the signing certificate is not valid now")
        return cert
