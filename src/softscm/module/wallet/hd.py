"""BIP32 (secp256k1) and SLIP-10 (NIST P-256, Ed25519) hierarchical deterministic keys.

The derivation arithmetic is the `slip10` package's; this module holds nodes in the module's raw
key formats (X||Y for the ECDSA curves, 32 bytes for Ed25519).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from slip10 import SLIP10
from slip10.utils import SLIP10DerivationError

from ...wire.defs import KeyType
from ...wire.errors import InvalidKeyError, WalletError
from ..crypto.keys import normalize_public
from .path import HARDENED, parse_path

_CURVE_NAMES = {KeyType.SECP256K1: "secp256k1", KeyType.NISTP256: "secp256r1", KeyType.ED25519: "ed25519"}
_EC = {KeyType.SECP256K1: ec.SECP256K1(), KeyType.NISTP256: ec.SECP256R1()}


@dataclass(frozen=True)
class Node:
    """One node of an HD tree. ``private_key`` is ``None`` in a watch-only tree."""

    key_type: KeyType
    private_key: bytes | None
    public_key: bytes
    chain_code: bytes
    depth: int
    parent_fingerprint: bytes
    index: int
    hardened: bool

    def __repr__(self) -> str:
        return f"<{self.key_type.label} HD node depth {self.depth} index {self.index}{chr(39) * self.hardened}>"

    def to_slip10(self) -> SLIP10:
        """This node as a `slip10` object (for xprv/xpub serialisation)."""
        return SLIP10(self.chain_code, self.private_key, None if self.private_key else _library_public(self),
                      fingerprint=self.parent_fingerprint, depth=self.depth,
                      index=self.index | (HARDENED if self.hardened else 0), curve_name=_CURVE_NAMES[self.key_type])


def _curve(key_type: KeyType):  # type: ignore[no-untyped-def]
    try:
        name = _CURVE_NAMES[key_type]
    except KeyError:
        raise WalletError(f"{key_type.label} keys cannot form a wallet") from None
    return SLIP10(bytes(32), bytes(31) + b"\x01", curve_name=name).curve


def _raw_public(key_type: KeyType, library_public: bytes) -> bytes:
    if key_type is KeyType.ED25519:
        return library_public[-32:]
    return normalize_public(key_type, library_public)


def _library_public(node: Node) -> bytes:
    if node.key_type is KeyType.ED25519:
        return b"\x00" + node.public_key
    point = ec.EllipticCurvePublicKey.from_encoded_point(_EC[node.key_type], b"\x04" + node.public_key)
    return point.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def _from_private(key_type: KeyType, private: bytes, chain: bytes, depth: int, parent_fp: bytes,
                  raw_index: int) -> Node:
    public = _curve(key_type).privkey_to_pubkey(private)
    return Node(key_type, private, _raw_public(key_type, public), chain, depth, parent_fp,
                raw_index & ~HARDENED, bool(raw_index & HARDENED))


def fingerprint(node: Node) -> bytes:
    """The BIP32 fingerprint of a node (first 4 bytes of HASH160 of its compressed public key)."""
    return SLIP10(node.chain_code, None, _library_public(node), curve_name=_CURVE_NAMES[node.key_type]).get_fingerprint()


def master_node(key_type: KeyType, seed: bytes, master_gen_key: bytes = b"") -> Node:
    """The master node for ``seed``. An empty ``master_gen_key`` uses the standard HMAC key of the
    curve ("Bitcoin seed", "Nist256p1 seed", "ed25519 seed"); otherwise it is the HMAC key.

    :raises WalletError: for a key type that has no HD scheme.
    :raises InvalidArgumentError-free: any seed length from 16 to 64 bytes is accepted.
    """
    curve = _curve(key_type)
    if master_gen_key:
        curve = copy.copy(curve)
        curve.modifier = bytes(master_gen_key)
    private, chain = curve.generate_master(bytes(seed))
    return _from_private(key_type, private, chain, 0, bytes(4), 0)


def derive_child(node: Node, index: int, hardened: bool) -> Node:
    """Private derivation of child ``index``.

    :raises WalletError: for a watch-only node, or a non-hardened Ed25519 child.
    """
    if node.private_key is None:
        raise WalletError("a watch-only node has no private key to derive from")
    if node.key_type is KeyType.ED25519 and not hardened:
        raise WalletError("Ed25519 (SLIP-10) derives hardened children only")
    raw = index | (HARDENED if hardened else 0)
    try:
        private, chain = _curve(node.key_type).derive_private_child(node.private_key, node.chain_code, raw)
    except SLIP10DerivationError as exc:
        raise WalletError(f"derivation failed: {exc}") from None
    return _from_private(node.key_type, private, chain, node.depth + 1, fingerprint(node), raw)


def derive_public_child(node: Node, index: int) -> Node:
    """Public (watch-only) derivation of non-hardened child ``index``.

    :raises WalletError: for Ed25519, which has no public derivation.
    """
    if node.key_type is KeyType.ED25519:
        raise WalletError("Ed25519 (SLIP-10) has no public derivation")
    try:
        public, chain = _curve(node.key_type).derive_public_child(_library_public(node), node.chain_code, index)
    except SLIP10DerivationError as exc:
        raise WalletError(f"derivation failed: {exc}") from None
    return Node(node.key_type, None, _raw_public(node.key_type, public), chain, node.depth + 1, fingerprint(node),
                index, False)


def public_only_node(key_type: KeyType, public_key: bytes, chain_code: bytes, node_addr: str) -> Node:
    """A watch-only node from an extended public key's parts.

    :raises InvalidKeyError: for an invalid public key or chain code.
    """
    if len(chain_code) != 32:
        raise InvalidKeyError("a chain code is 32 bytes")
    if key_type is KeyType.X25519:
        raise WalletError("x25519 keys cannot form a wallet")
    steps = parse_path(node_addr)
    last = steps[-1] if steps else None
    return Node(key_type, None, normalize_public(key_type, public_key), chain_code, len(steps), bytes(4),
                last.index if last else 0, last.hardened if last else False)


def node_from_extended_key(text: str) -> Node:
    """Parse a BIP32 ``xprv``/``xpub`` (secp256k1).

    :raises InvalidKeyError: if it is malformed or its key is invalid.
    """
    try:
        obj = SLIP10.from_xpriv(text) if text.startswith(("xprv", "tprv")) else SLIP10.from_xpub(text)
    except Exception:  # the library raises assorted types for malformed input
        raise InvalidKeyError("not a valid extended key") from None
    private = obj.privkey
    public = _raw_public(KeyType.SECP256K1, obj.pubkey if obj.pubkey else _curve(KeyType.SECP256K1).privkey_to_pubkey(private))
    return Node(KeyType.SECP256K1, private, public, obj.chaincode, obj.depth, obj.parent_fingerprint,
                obj.index & ~HARDENED, bool(obj.index & HARDENED))
