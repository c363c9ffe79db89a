"""Keys that sign checkpoints and exports: Ed25519 or HMAC-SHA256.

Ed25519 (through ``cryptography``): the private key signs, and anyone holding
the public key verifies, so the key that signs can be kept off every host
that writes the database.  HMAC-SHA256: one shared secret signs and verifies,
so whoever verifies could also sign; simpler, and enough when the verifier is
trusted as much as the signer.

`generate_ed25519_key` and `generate_hmac_key` make keys; `load_key` reads a
key file: PEM (as ``openssl genpkey -algorithm ed25519`` writes it, private
or public) or the hex digits of an HMAC key (as ``openssl rand -hex 32``
writes them).  A key's content never appears in an error or a log: only its
file's name and its `Key.key_id`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from .errors import InvalidInput

__all__ = [
    "ED25519",
    "HMAC_SHA256",
    "Key",
    "find_key",
    "generate_ed25519_key",
    "generate_hmac_key",
    "load_key",
]

#: The algorithm names a signature carries.
ED25519: Final = "ed25519"
HMAC_SHA256: Final = "hmac-sha256"
_HMAC_BYTES: Final = 32


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- keys -------------------------------------------------------------------------------------


class Key:
    """A key that signs and verifies checkpoints and exports.

    Build one with `load_key` (from a file) or `Key.from_bytes`.  An Ed25519
    private key signs and verifies; an Ed25519 public key only verifies; an
    HMAC-SHA256 key does both, so whoever may verify with it may also sign.

    Attributes:
        algorithm: `ED25519` or `HMAC_SHA256`.
        key_id: 16 hex digits naming the key (from the public key, or from a
            hash of the HMAC secret); recorded with every signature.
        can_sign: False for an Ed25519 public key.
    """

    __slots__ = ("_hmac", "_private", "_public", "algorithm", "can_sign", "key_id")

    def __init__(
        self,
        algorithm: str,
        key_id: str,
        *,
        private: Any = None,
        public: Any = None,
        secret: bytes | None = None,
    ) -> None:
        self.algorithm = algorithm
        self.key_id = key_id
        self._private = private
        self._public = public
        self._hmac = secret
        self.can_sign = private is not None or secret is not None

    @classmethod
    def from_bytes(cls, data: bytes, *, name: str = "key") -> Key:
        """A key from a file's bytes: a PEM Ed25519 key (private or public) or HMAC hex digits.

        Args:
            data: The file's content.
            name: What to call the key in an error (a file name; never its content).

        Raises:
            InvalidInput: neither form, an encrypted PEM key, or an HMAC key
                shorter than 32 bytes (field ``key``).
        """
        text = data.strip()
        if text.startswith(b"-----BEGIN"):
            return cls._from_pem(text, name)
        try:
            secret = bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise InvalidInput(
                "key", name, "a PEM Ed25519 key or the hex digits of an HMAC key"
            ) from None
        if len(secret) < _HMAC_BYTES:
            raise InvalidInput("key", name, f"an HMAC key of at least {_HMAC_BYTES} bytes")
        key_id = _sha256(b"arrears hmac key\x00" + secret)[:16]
        return cls(HMAC_SHA256, key_id, secret=secret)

    @classmethod
    def _from_pem(cls, text: bytes, name: str) -> Key:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        loaded: Any
        try:
            if b"PRIVATE KEY" in text.split(b"\n", 1)[0]:
                loaded = serialization.load_pem_private_key(text, password=None)
            else:
                loaded = serialization.load_pem_public_key(text)
        except (ValueError, TypeError):
            raise InvalidInput(
                "key", name, "an unencrypted PEM Ed25519 private or public key"
            ) from None
        if isinstance(loaded, ed25519.Ed25519PrivateKey):
            private, public = loaded, loaded.public_key()
        elif isinstance(loaded, ed25519.Ed25519PublicKey):
            private, public = None, loaded
        else:
            raise InvalidInput("key", name, "an Ed25519 key (not RSA, EC or another kind)")
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cls(ED25519, _sha256(raw)[:16], private=private, public=public)

    def sign(self, message: bytes) -> str:
        """The signature of *message*, in hex.

        Raises:
            InvalidInput: the key is an Ed25519 public key (field ``key``).
        """
        if self._hmac is not None:
            return hmac.new(self._hmac, message, hashlib.sha256).hexdigest()
        if self._private is None:
            raise InvalidInput("key", self.key_id, "a private key or an HMAC key, to sign")
        signature: bytes = self._private.sign(message)
        return signature.hex()

    def verify(self, message: bytes, signature: str) -> bool:
        """True when *signature* (hex) is this key's signature of *message*."""
        if self._hmac is not None:
            expected = hmac.new(self._hmac, message, hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, signature)
        from cryptography.exceptions import InvalidSignature

        try:
            self._public.verify(bytes.fromhex(signature), message)
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True

    def public_pem(self) -> bytes:
        """The Ed25519 public key as PEM, to hand to whoever verifies.

        Raises:
            InvalidInput: an HMAC key has no public part (field ``key``).
        """
        if self._public is None:
            raise InvalidInput(
                "key", self.key_id, "an Ed25519 key (an HMAC key has no public part)"
            )
        from cryptography.hazmat.primitives import serialization

        pem: bytes = self._public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem

    def __repr__(self) -> str:
        role = "signing" if self.can_sign else "verifying"
        return f"<Key {self.algorithm} {self.key_id} ({role})>"


def generate_ed25519_key() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair: ``(private PEM (PKCS #8, unencrypted), public PEM)``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private = ed25519.Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def generate_hmac_key() -> bytes:
    """A new HMAC-SHA256 key: 32 random bytes as hex digits and a newline (a key file's content)."""
    return secrets.token_hex(_HMAC_BYTES).encode("ascii") + b"\n"


def load_key(path: str | os.PathLike[str]) -> Key:
    """The key in the file at *path* (`Key.from_bytes`).

    Raises:
        InvalidInput: no such file, or not a key (field ``key``, the file's name).
    """
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise InvalidInput("key", name, "a readable key file") from None
    return Key.from_bytes(data, name=name)


def find_key(keys: Sequence[Key], key_id: object) -> Key | None:
    """The key of *keys* whose `Key.key_id` is *key_id*, if any."""
    return next((key for key in keys if key.key_id == key_id), None)
