"""Cardano HD keys: the Icarus master key (CIP-3) and BIP32-Ed25519 derivation (Khovratovich and
Law, the "V2" scheme Cardano wallets use), for wallets created with ``variant="cardano"``.

Nodes are :class:`~softscm.module.wallet.hd.Node` records (key type Ed25519, fingerprint zero); a
node's private key is the 64-byte extended key ``kL || kR`` (``kL`` the scalar, little-endian;
``kR`` the nonce key), its public key ``A = kL * B`` (32 bytes). Hardened and non-hardened
(public) derivation are both defined; indices are encoded little-endian, as Cardano does.
Signatures are ordinary Ed25519 signatures made from the extended key, so any Ed25519 verifier
checks them. The point and scalar arithmetic is libsodium's (PyNaCl); HMAC, PBKDF2 and SHA-512
are the standard library's (OpenSSL).
"""

from __future__ import annotations

import hashlib
import hmac

from nacl import bindings as sodium

from ...wire.defs import Bip39Language, KeyType
from ...wire.errors import InvalidArgumentError, InvalidKeyError, WalletError
from ..crypto import ed25519_extended
from .bip39 import mnemonic_to_entropy
from .hd import Node
from .path import HARDENED, MAX_DEPTH

ICARUS_ROUNDS = 4096
CHAIN_CODE_BYTES = 32
PUBLIC_KEY_BYTES = 32
MIN_ENTROPY_BYTES = 16
MAX_ENTROPY_BYTES = 64
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493



def _node(private: bytes | None, public: bytes, chain: bytes, depth: int, index: int, hardened: bool) -> Node:
    """A Cardano node as an HD node: Ed25519, the private key (if any) the 64-byte extended key.
    BIP32-Ed25519 defines no fingerprint; the field is zero."""
    return Node(KeyType.ED25519, private, public, chain, depth, bytes(4), index, hardened)


def _base_times(scalar: bytes) -> bytes:
    """``scalar * B``. :raises WalletError: if it is the identity (negligibly rare)."""
    try:
        return ed25519_extended.base_times(scalar)
    except InvalidKeyError:
        raise WalletError("this key is a multiple of the group order") from None


def public_key(extended_key: bytes) -> bytes:
    """``A = kL * B`` for an extended key ``kL || kR``.

    :raises InvalidKeyError: if it is not 64 bytes or its scalar is zero.
    """
    return ed25519_extended.public_key(extended_key)


def _clamp(key: bytearray) -> bytes:
    key[0] &= 0b1111_1000
    key[31] &= 0b0001_1111
    key[31] |= 0b0100_0000
    return bytes(key)


def icarus_master(entropy: bytes, passphrase: bytes = b"") -> Node:
    """The Icarus master node (CIP-3): ``PBKDF2-HMAC-SHA512(passphrase, entropy, 4096, 96)``,
    ``kL`` clamped, the last 32 bytes the chain code. ``entropy`` is a BIP39 mnemonic's entropy
    (or, for SLIP-39 and random seeds, the master secret or seed).

    :raises InvalidArgumentError: for entropy outside 16..64 bytes.
    """
    if not MIN_ENTROPY_BYTES <= len(entropy) <= MAX_ENTROPY_BYTES:
        raise InvalidArgumentError(f"Icarus entropy is {MIN_ENTROPY_BYTES}..{MAX_ENTROPY_BYTES} bytes")
    material = hashlib.pbkdf2_hmac("sha512", passphrase, bytes(entropy), ICARUS_ROUNDS, dklen=96)
    private = _clamp(bytearray(material[:64]))
    return _node(private, public_key(private), material[64:], 0, 0, False)


def icarus_master_from_mnemonic(mnemonic: str, passphrase: str = "", language: Bip39Language | None = None) -> Node:
    """The Icarus master node of a BIP39 mnemonic (its entropy, read with ``language``'s word list
    or the official list it is valid in; not its BIP39 seed) and passphrase.

    :raises MnemonicError: for a bad word, length or checksum.
    """
    return icarus_master(mnemonic_to_entropy(mnemonic, language), passphrase.encode())


def _check_child(node: Node, index: int) -> None:
    if not 0 <= index < HARDENED:
        raise InvalidArgumentError("a child index is 0..2^31-1 (hardened is a separate flag)")
    if node.depth >= MAX_DEPTH:
        raise WalletError(f"a node is at most {MAX_DEPTH} levels deep")


def _add_scalars(kl: bytes, zl: bytes) -> bytes:
    """``kL' = 8 * ZL[0:28] + kL`` (V2: no reduction)."""
    value = 8 * int.from_bytes(zl[:28], "little") + int.from_bytes(kl, "little")
    if value >= 2**256:
        raise WalletError("this index gives an invalid key; use the next one")
    return value.to_bytes(32, "little")


def derive_child(node: Node, index: int, hardened: bool) -> Node:
    """Private derivation of child ``index`` (hardened or not).

    :raises InvalidArgumentError: for an index outside 0..2^31-1.
    :raises WalletError: for a watch-only node, a node 255 levels deep, or (negligibly rare) a
        child scalar that is a multiple of the group order, in which case use the next index.
    """
    _check_child(node, index)
    if node.private_key is None:
        raise WalletError("a watch-only node has no private key to derive from")
    number = (index | HARDENED if hardened else index).to_bytes(4, "little")
    if hardened:
        z = hmac.new(node.chain_code, b"\x00" + node.private_key + number, hashlib.sha512).digest()
        chain = hmac.new(node.chain_code, b"\x01" + node.private_key + number, hashlib.sha512).digest()[32:]
    else:
        z = hmac.new(node.chain_code, b"\x02" + node.public_key + number, hashlib.sha512).digest()
        chain = hmac.new(node.chain_code, b"\x03" + node.public_key + number, hashlib.sha512).digest()[32:]
    kl = _add_scalars(node.private_key[:32], z[:32])
    kr = ((int.from_bytes(z[32:], "little") + int.from_bytes(node.private_key[32:], "little")) % 2**256
          ).to_bytes(32, "little")
    if int.from_bytes(kl, "little") % GROUP_ORDER == 0:
        raise WalletError("this index gives an invalid key; use the next one")
    return _node(kl + kr, public_key(kl + kr), chain, node.depth + 1, index, hardened)


def derive_public_child(node: Node, index: int) -> Node:
    """Public derivation of non-hardened child ``index``: ``A' = A + 8 * ZL[0:28] * B``.

    :raises InvalidArgumentError: for an index outside 0..2^31-1.
    :raises WalletError: for a node 255 levels deep or a child that is the identity point.
    """
    _check_child(node, index)
    number = index.to_bytes(4, "little")
    z = hmac.new(node.chain_code, b"\x02" + node.public_key + number, hashlib.sha512).digest()
    chain = hmac.new(node.chain_code, b"\x03" + node.public_key + number, hashlib.sha512).digest()[32:]
    tweak = (8 * int.from_bytes(z[:28], "little")).to_bytes(32, "little")
    public = sodium.crypto_core_ed25519_add(node.public_key, _base_times(tweak))
    return _node(None, public, chain, node.depth + 1, index, False)


def watch_only_node(public: bytes, chain_code: bytes, depth: int = 0, index: int = 0) -> Node:
    """A watch-only node from a public key and chain code.

    :raises InvalidKeyError: for a key that is not a valid Ed25519 point or a chain code that is
        not 32 bytes.
    """
    if len(chain_code) != CHAIN_CODE_BYTES:
        raise InvalidKeyError(f"a chain code is {CHAIN_CODE_BYTES} bytes")
    if len(public) != PUBLIC_KEY_BYTES or not sodium.crypto_core_ed25519_is_valid_point(bytes(public)):
        raise InvalidKeyError("not a valid Ed25519 public key")
    return _node(None, bytes(public), bytes(chain_code), depth, index, False)


def sign(extended_key: bytes, message: bytes) -> bytes:
    """An Ed25519 signature of ``message`` made from the extended key (see
    :mod:`softscm.module.crypto.ed25519_extended`)."""
    return ed25519_extended.sign(extended_key, message)
