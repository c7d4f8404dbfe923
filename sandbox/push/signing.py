"""The sandbox's signing key and its certificate, and the SNS signature (SignatureVersion 2: RSA over the
SHA256 of the string to sign) of each message sent.

The key is made when the sandbox starts; its self-signed certificate is served on loopback at the
message's SigningCertURL, so a receiver checks messages as it would check Amazon SNS's.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

SIGNED_FIELDS = ("Message", "MessageId", "Subject", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
"""The envelope fields signed, in the order Amazon SNS concatenates the present ones."""


def string_to_sign(envelope: dict) -> bytes:
    """Each signed field present in ``envelope`` as ``name\\nvalue\\n``, in SNS's order."""
    return "".join(f"{name}\n{envelope[name]}\n" for name in SIGNED_FIELDS if name in envelope).encode()


class Signer:
    """An RSA key and a self-signed certificate for it, valid from an hour ago for a year."""

    def __init__(self, common_name: str = "sns.sandbox.cofaserve.invalid"):
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.now(UTC)
        self.certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=365))
                            .sign(self._key, hashes.SHA256()))
        self.certificate_pem = self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, envelope: dict) -> str:
        """The base64 SignatureVersion 2 signature of ``envelope``'s signed fields."""
        signature = self._key.sign(string_to_sign(envelope), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()
