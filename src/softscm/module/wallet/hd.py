"""BIP32 (secp256k1) and SLIP-10 (NIST P-256, Ed25519) hierarchical deterministic keys.

secp256k1 follows BIP32 exactly, on libsecp256k1 (`coincurve`): a derived key with
``IL >= n`` or a zero key is invalid and raises :class:`WalletError` (the caller moves on to the
next index, as BIP32 says). NIST P-256 and Ed25519 follow SLIP-10 through the `slip10` package,
whose retry rule replaces such a key. Nodes hold keys in the module's raw formats: X||Y (64 bytes)
for the ECDSA curves, 32 bytes for Ed25519.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from dataclasses import dataclass

import coincurve
from slip10 import SLIP10
from slip10.base58 import b58decode_check, b58encode_check
from slip10.utils import ED25519, SECP256R1, EdwardsCurve, WeierstrassCurve

from ...wire.defs import KeyType
from ...wire.errors import InvalidArgumentError, InvalidKeyError, WalletError
from ..crypto.keys import normalize_public
from .path import HARDENED, MAX_DEPTH, parse_path

BITCOIN_SEED = b"Bitcoin seed"
MIN_SEED_BYTES = 16
MAX_SEED_BYTES = 64
CHAIN_CODE_BYTES = 32

_SLIP10_CURVES: dict[KeyType, WeierstrassCurve | EdwardsCurve] = {KeyType.NISTP256: SECP256R1,
                                                                   KeyType.ED25519: ED25519}
_LIBRARY_CURVE_NAMES = {KeyType.SECP256K1: "secp256k1", KeyType.NISTP256: "secp256r1", KeyType.ED25519: "ed25519"}


@dataclass(frozen=True)
class Node:
    """One node of an HD tree. ``private_key`` is ``None`` in a watch-only tree; ``index`` is
    below 2^31 and ``hardened`` says whether the hardened bit was set."""

    key_type: KeyType
    private_key: bytes | None
    public_key: bytes
    chain_code: bytes
    depth: int
    parent_fingerprint: bytes
    index: int
    hardened: bool

    def __repr__(self) -> str:
        kind = "watch-only " if self.private_key is None else ""
        return f"<{kind}{self.key_type.label} HD node depth {self.depth} index {self.index}{chr(39) * self.hardened}>"

    @property
    def child_number(self) -> int:
        """The 32-bit index with the hardened bit set where it applies."""
        return self.index | HARDENED if self.hardened else self.index

    def to_slip10(self) -> SLIP10:
        """This node as a `slip10` object (xprv/xpub serialisation, cross-checks)."""
        return SLIP10(self.chain_code, self.private_key, None if self.private_key else compressed_public(self),
                      fingerprint=self.parent_fingerprint, depth=self.depth, index=self.child_number,
                      curve_name=_LIBRARY_CURVE_NAMES[self.key_type])


def _check_wallet_type(key_type: KeyType) -> None:
    if key_type not in _LIBRARY_CURVE_NAMES:
        raise WalletError(f"{key_type.label} keys cannot form a wallet")


def _check_index(index: int) -> None:
    if not 0 <= index < HARDENED:
        raise InvalidArgumentError("a child index is 0..2^31-1 (hardened is a separate flag)")


def _check_depth(node: Node) -> None:
    if node.depth >= MAX_DEPTH:
        raise WalletError(f"a node is at most {MAX_DEPTH} levels deep")


def compressed_public(node: Node) -> bytes:
    """The node's public key as BIP32/SLIP-10 hash it: SEC1 compressed, or ``00 || key`` for Ed25519."""
    if node.key_type is KeyType.ED25519:
        return b"\x00" + node.public_key
    x, y = node.public_key[:32], node.public_key[32:]
    return bytes([2 + (y[-1] & 1)]) + x


def fingerprint(node: Node) -> bytes:
    """The BIP32 fingerprint of a node: the first 4 bytes of HASH160 of its compressed public key."""
    return hashlib.new("ripemd160", hashlib.sha256(compressed_public(node)).digest()).digest()[:4]


def _raw_public(key_type: KeyType, library_public: bytes) -> bytes:
    if key_type is KeyType.ED25519:
        return library_public[1:]
    return normalize_public(key_type, library_public)


def _node(key_type: KeyType, private: bytes | None, public: bytes, chain: bytes, depth: int,
          parent_fp: bytes, child_number: int) -> Node:
    return Node(key_type, private, public, chain, depth, parent_fp, child_number & ~HARDENED,
                bool(child_number & HARDENED))


def master_node(key_type: KeyType, seed: bytes, master_gen_key: bytes = b"") -> Node:
    """The master node for ``seed`` (a BIP39 seed or a SLIP-39 master secret). An empty
    ``master_gen_key`` uses the curve's standard HMAC key ("Bitcoin seed", "Nist256p1 seed",
    "ed25519 seed"); otherwise the given bytes are the HMAC key.

    :raises InvalidArgumentError: for a seed outside 16..64 bytes.
    :raises WalletError: for a key type that has no HD scheme, or (secp256k1, probability below
        2^-127) a seed whose master key is invalid.
    """
    _check_wallet_type(key_type)
    if not MIN_SEED_BYTES <= len(seed) <= MAX_SEED_BYTES:
        raise InvalidArgumentError(f"a wallet seed is {MIN_SEED_BYTES}..{MAX_SEED_BYTES} bytes")
    if key_type is KeyType.SECP256K1:
        digest = hmac.new(master_gen_key or BITCOIN_SEED, seed, hashlib.sha512).digest()
        try:
            key = coincurve.PrivateKey(digest[:32])
        except ValueError:
            raise WalletError("this seed gives an invalid master key") from None
        return _node(key_type, key.secret, key.public_key.format(compressed=False)[1:], digest[32:], 0, bytes(4), 0)
    curve = _SLIP10_CURVES[key_type]
    if master_gen_key:
        curve = copy.copy(curve)
        curve.modifier = bytes(master_gen_key)
    private, chain = curve.generate_master(bytes(seed))
    return _node(key_type, private, _raw_public(key_type, curve.privkey_to_pubkey(private)), chain, 0, bytes(4), 0)


def derive_child(node: Node, index: int, hardened: bool) -> Node:
    """Private derivation (CKDpriv) of child ``index``.

    :raises InvalidArgumentError: for an index outside 0..2^31-1.
    :raises WalletError: for a watch-only node, a non-hardened Ed25519 child, a node already
        255 levels deep, or (secp256k1,
        probability below 2^-127) an invalid child key, in which case BIP32 says to use the next index.
    """
    _check_index(index)
    _check_depth(node)
    if node.private_key is None:
        raise WalletError("a watch-only node has no private key to derive from")
    if node.key_type is KeyType.ED25519 and not hardened:
        raise WalletError("Ed25519 (SLIP-10) derives hardened children only")
    number = index | HARDENED if hardened else index
    parent_fp = fingerprint(node)
    if node.key_type is KeyType.SECP256K1:
        data = b"\x00" + node.private_key if hardened else compressed_public(node)
        digest = hmac.new(node.chain_code, data + number.to_bytes(4, "big"), hashlib.sha512).digest()
        try:
            key = coincurve.PrivateKey(node.private_key).add(digest[:32])
        except ValueError:
            raise WalletError("this index gives an invalid key; use the next one") from None
        return _node(node.key_type, key.secret, key.public_key.format(compressed=False)[1:], digest[32:],
                     node.depth + 1, parent_fp, number)
    curve = _SLIP10_CURVES[node.key_type]
    private, chain = curve.derive_private_child(node.private_key, node.chain_code, number)
    return _node(node.key_type, private, _raw_public(node.key_type, curve.privkey_to_pubkey(private)), chain,
                 node.depth + 1, parent_fp, number)


def derive_public_child(node: Node, index: int, hardened: bool = False) -> Node:
    """Public derivation (CKDpub) of non-hardened child ``index``: a watch-only node.

    :raises InvalidArgumentError: for an index outside 0..2^31-1.
    :raises WalletError: for a hardened child, an Ed25519 node (SLIP-10 has no public derivation
        there), a node already 255 levels deep, or (secp256k1, probability below 2^-127) an invalid child key.
    """
    _check_index(index)
    _check_depth(node)
    if hardened:
        raise WalletError("a hardened child needs the private key")
    if node.key_type is KeyType.ED25519:
        raise WalletError("Ed25519 (SLIP-10) has no public derivation")
    parent = compressed_public(node)
    if node.key_type is KeyType.SECP256K1:
        digest = hmac.new(node.chain_code, parent + index.to_bytes(4, "big"), hashlib.sha512).digest()
        try:
            public = coincurve.PublicKey(parent).add(digest[:32]).format(compressed=False)[1:]
        except ValueError:
            raise WalletError("this index gives an invalid key; use the next one") from None
        chain = digest[32:]
    else:
        library_public, chain = SECP256R1.derive_public_child(parent, node.chain_code, index)
        public = _raw_public(node.key_type, library_public)
    return _node(node.key_type, None, public, chain, node.depth + 1, fingerprint(node), index)


def public_only_node(key_type: KeyType, public_key: bytes, chain_code: bytes, node_addr: str) -> Node:
    """A watch-only node from an extended public key's parts; ``public_key`` in any encoding the
    module accepts (raw, SEC1 compressed or uncompressed). The parent fingerprint is unknown (zero).

    :raises InvalidArgumentError: for a bad node address.
    :raises InvalidKeyError: for an invalid public key or a chain code that is not 32 bytes.
    :raises WalletError: for a key type that has no HD scheme.
    """
    _check_wallet_type(key_type)
    if len(chain_code) != CHAIN_CODE_BYTES:
        raise InvalidKeyError(f"a chain code is {CHAIN_CODE_BYTES} bytes")
    steps = parse_path(node_addr)
    number = steps[-1].raw_index if steps else 0
    return _node(key_type, None, normalize_public(key_type, public_key), bytes(chain_code), len(steps), bytes(4),
                 number)


# -- BIP32 extended keys (secp256k1) ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExtendedKey:
    """The 78-byte BIP32 serialisation of a secp256k1 node (before Base58Check)."""

    version: int
    depth: int
    parent_fingerprint: bytes
    child_number: int
    chain_code: bytes
    key_data: bytes  # 00 || private key, or a SEC1 compressed public key

    SIZE = 78
    PRIVATE_VERSIONS = (0x0488ADE4, 0x04358394)  # xprv (mainnet), tprv (testnet)
    PUBLIC_VERSIONS = (0x0488B21E, 0x043587CF)  # xpub, tpub

    @classmethod
    def parse(cls, data: bytes) -> ExtendedKey:
        """Parse and check the structure (not yet the key itself; see :func:`node_from_extended_key`).

        :raises InvalidKeyError: for a wrong length, an unknown version, a key prefix that does
            not fit the version, or a depth-0 key with a parent fingerprint or an index.
        """
        if len(data) != cls.SIZE:
            raise InvalidKeyError(f"an extended key is {cls.SIZE} bytes")
        key = cls(int.from_bytes(data[:4], "big"), data[4], data[5:9], int.from_bytes(data[9:13], "big"),
                  data[13:45], data[45:])
        if key.version in cls.PRIVATE_VERSIONS:
            if key.key_data[0] != 0:
                raise InvalidKeyError("an extended private key's key data starts with 00")
        elif key.version in cls.PUBLIC_VERSIONS:
            if key.key_data[0] not in (2, 3):
                raise InvalidKeyError("an extended public key holds a compressed point")
        else:
            raise InvalidKeyError("unknown extended key version")
        if key.depth == 0 and (key.parent_fingerprint != bytes(4) or key.child_number != 0):
            raise InvalidKeyError("a master extended key has no parent fingerprint and index 0")
        return key

    @property
    def is_private(self) -> bool:
        return self.version in self.PRIVATE_VERSIONS

    def to_bytes(self) -> bytes:
        return (self.version.to_bytes(4, "big") + bytes([self.depth]) + self.parent_fingerprint
                + self.child_number.to_bytes(4, "big") + self.chain_code + self.key_data)


def node_from_extended_key(text: str) -> Node:
    """A secp256k1 node from a BIP32 ``xprv``/``xpub`` (or ``tprv``/``tpub``) string.

    :raises InvalidKeyError: if it is malformed (Base58Check, layout, version) or its key is invalid.
    """
    try:
        data = b58decode_check(text.strip())
    except ValueError:
        raise InvalidKeyError("not a Base58Check string") from None
    key = ExtendedKey.parse(data)
    try:
        if key.is_private:
            private = coincurve.PrivateKey(key.key_data[1:])
            secret: bytes | None = private.secret
            public = private.public_key
        else:
            secret, public = None, coincurve.PublicKey(key.key_data)
    except ValueError:
        raise InvalidKeyError("the extended key's key is not a valid secp256k1 key") from None
    return _node(KeyType.SECP256K1, secret, public.format(compressed=False)[1:], key.chain_code, key.depth,
                 key.parent_fingerprint, key.child_number)


def _extended_key(node: Node, private: bool) -> str:
    if node.key_type is not KeyType.SECP256K1:
        raise WalletError("BIP32 extended keys are defined for secp256k1 only")
    if private and node.private_key is None:
        raise WalletError("a watch-only node has no extended private key")
    if node.depth > MAX_DEPTH:
        raise WalletError(f"an extended key holds a depth of at most {MAX_DEPTH}")
    key_data = b"\x00" + node.private_key if private and node.private_key else compressed_public(node)
    version = ExtendedKey.PRIVATE_VERSIONS[0] if private else ExtendedKey.PUBLIC_VERSIONS[0]
    key = ExtendedKey(version, node.depth, node.parent_fingerprint, node.child_number, node.chain_code, key_data)
    return b58encode_check(key.to_bytes()).decode()


def to_xprv(node: Node) -> str:
    """The node's BIP32 extended private key (mainnet ``xprv``).

    :raises WalletError: for a node that is not secp256k1 or has no private key.
    """
    return _extended_key(node, private=True)


def to_xpub(node: Node) -> str:
    """The node's BIP32 extended public key (mainnet ``xpub``).

    :raises WalletError: for a node that is not secp256k1.
    """
    return _extended_key(node, private=False)
