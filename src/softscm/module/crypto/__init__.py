"""Pure cryptography for the module: bytes in, bytes out, no I/O, randomness injectable.

secp256k1 runs on libsecp256k1 (coincurve); NIST P-256, Ed25519, X25519, AES-GCM and the KDFs
on OpenSSL (cryptography).
"""

from .aead import open_sealed, seal
from .ecdh import derive_key, shared_secret
from .keys import PrivateKey, PublicKey, generate, load_private, normalize_public, public_to_pem
from ...wire.messages.operations import Signature
from .signing import verify

__all__ = [
    "PrivateKey",
    "PublicKey",
    "Signature",
    "derive_key",
    "generate",
    "load_private",
    "normalize_public",
    "open_sealed",
    "public_to_pem",
    "seal",
    "shared_secret",
    "verify",
]
