"""Cardano HD keys: the Icarus master key (CIP-3) and BIP32-Ed25519 derivation (Khovratovich and
Law, the "V2" scheme Cardano wallets use), for wallets created with ``variant="cardano"``.

A node's private key is the 64-byte extended key ``kL || kR`` (``kL`` the scalar, little-endian;
``kR`` the nonce key), its public key ``A = kL * B`` (32 bytes). Hardened and non-hardened
(public) derivation are both defined; indices are encoded little-endian, as Cardano does.
Signatures are ordinary Ed25519 signatures made from the extended key, so any Ed25519 verifier
checks them. The point and scalar arithmetic is libsodium's (PyNaCl); HMAC, PBKDF2 and SHA-512
are the standard library's (OpenSSL).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from mnemonic import Mnemonic
from nacl import bindings as sodium
from nacl.exceptions import RuntimeError as SodiumRuntimeError

from ...wire.defs import KeyType
from ...wire.errors import InvalidArgumentError, InvalidKeyError, WalletError
from ...wire.messages.operations import Signature
from ..crypto.keys import PrivateKey
from ..crypto.rng import Rng, system_rng
from .bip39 import validate_mnemonic
from .path import HARDENED, MAX_DEPTH

ICARUS_ROUNDS = 4096
EXTENDED_KEY_BYTES = 64
CHAIN_CODE_BYTES = 32
PUBLIC_KEY_BYTES = 32
MIN_ENTROPY_BYTES = 16
MAX_ENTROPY_BYTES = 64
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493

_ENGLISH = Mnemonic("english")


@dataclass(frozen=True)
class CardanoNode:
    """One node of a Cardano HD tree; ``private_key`` (``kL || kR``) is ``None`` when watch-only."""

    private_key: bytes | None
    public_key: bytes
    chain_code: bytes
    depth: int
    index: int
    hardened: bool

    def __repr__(self) -> str:
        kind = "watch-only " if self.private_key is None else ""
        return f"<{kind}cardano node depth {self.depth} index {self.index}{chr(39) * self.hardened}>"


def _reduced(scalar: bytes) -> bytes:
    """A little-endian scalar of up to 64 bytes, reduced modulo the group order."""
    return sodium.crypto_core_ed25519_scalar_reduce(scalar.ljust(64, b"\x00"))


def _base_times(scalar: bytes) -> bytes:
    """``scalar * B`` for a little-endian scalar (not clamped).

    :raises WalletError: if the scalar is a multiple of the group order (the identity).
    """
    try:
        return sodium.crypto_scalarmult_ed25519_base_noclamp(_reduced(scalar))
    except SodiumRuntimeError:
        raise WalletError("this key is a multiple of the group order") from None


def public_key(extended_key: bytes) -> bytes:
    """``A = kL * B`` for an extended key ``kL || kR``.

    :raises InvalidKeyError: if it is not 64 bytes. :raises WalletError: for a zero scalar.
    """
    if len(extended_key) != EXTENDED_KEY_BYTES:
        raise InvalidKeyError(f"an extended Ed25519 key is {EXTENDED_KEY_BYTES} bytes")
    return _base_times(extended_key[:32])


def _clamp(key: bytearray) -> bytes:
    key[0] &= 0b1111_1000
    key[31] &= 0b0001_1111
    key[31] |= 0b0100_0000
    return bytes(key)


def icarus_master(entropy: bytes, passphrase: bytes = b"") -> CardanoNode:
    """The Icarus master node (CIP-3): ``PBKDF2-HMAC-SHA512(passphrase, entropy, 4096, 96)``,
    ``kL`` clamped, the last 32 bytes the chain code. ``entropy`` is a BIP39 mnemonic's entropy
    (or, for SLIP-39 and random seeds, the master secret or seed).

    :raises InvalidArgumentError: for entropy outside 16..64 bytes.
    """
    if not MIN_ENTROPY_BYTES <= len(entropy) <= MAX_ENTROPY_BYTES:
        raise InvalidArgumentError(f"Icarus entropy is {MIN_ENTROPY_BYTES}..{MAX_ENTROPY_BYTES} bytes")
    material = hashlib.pbkdf2_hmac("sha512", passphrase, bytes(entropy), ICARUS_ROUNDS, dklen=96)
    private = _clamp(bytearray(material[:64]))
    return CardanoNode(private, public_key(private), material[64:], 0, 0, False)


def icarus_master_from_mnemonic(mnemonic: str, passphrase: str = "") -> CardanoNode:
    """The Icarus master node of a BIP39 mnemonic (its entropy, not its BIP39 seed) and passphrase.

    :raises MnemonicError: for a bad word, length or checksum.
    """
    entropy = bytes(_ENGLISH.to_entropy(validate_mnemonic(mnemonic)))
    return icarus_master(entropy, passphrase.encode())


def _check_child(node: CardanoNode, index: int) -> None:
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


def derive_child(node: CardanoNode, index: int, hardened: bool) -> CardanoNode:
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
    return CardanoNode(kl + kr, public_key(kl + kr), chain, node.depth + 1, index, hardened)


def derive_public_child(node: CardanoNode, index: int) -> CardanoNode:
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
    return CardanoNode(None, public, chain, node.depth + 1, index, False)


def watch_only_node(public: bytes, chain_code: bytes, depth: int = 0, index: int = 0) -> CardanoNode:
    """A watch-only node from a public key and chain code.

    :raises InvalidKeyError: for a key that is not a valid Ed25519 point or a chain code that is
        not 32 bytes.
    """
    if len(chain_code) != CHAIN_CODE_BYTES:
        raise InvalidKeyError(f"a chain code is {CHAIN_CODE_BYTES} bytes")
    if len(public) != PUBLIC_KEY_BYTES or not sodium.crypto_core_ed25519_is_valid_point(bytes(public)):
        raise InvalidKeyError("not a valid Ed25519 public key")
    return CardanoNode(None, bytes(public), bytes(chain_code), depth, index, False)


def sign(extended_key: bytes, message: bytes) -> bytes:
    """An Ed25519 signature ``R || S`` of ``message`` made from the extended key ``kL || kR``
    (``r = H(kR || M)``, ``S = r + H(R || A || M) * kL``), verifiable by any Ed25519 verifier.

    :raises InvalidKeyError: if the key is not 64 bytes.
    """
    public = public_key(extended_key)
    r = _reduced(hashlib.sha512(extended_key[32:] + message).digest())
    big_r = sodium.crypto_scalarmult_ed25519_base_noclamp(r)
    h = _reduced(hashlib.sha512(big_r + public + message).digest())
    s = sodium.crypto_core_ed25519_scalar_add(r, sodium.crypto_core_ed25519_scalar_mul(h, _reduced(extended_key[:32])))
    return big_r + s


class ExtendedEd25519Key(PrivateKey):
    """A Cardano node's extended key as a module key object: it signs like any Ed25519 key (the
    signature verifies with the node's public key), and wraps into the keystore as 64 bytes."""

    key_type = KeyType.ED25519

    def __init__(self, extended_key: bytes) -> None:
        """:raises InvalidKeyError: if it is not 64 bytes or its scalar is zero."""
        try:
            self.public = public_key(extended_key)
        except WalletError:
            raise InvalidKeyError("not a valid extended Ed25519 key") from None
        self._key = bytes(extended_key)

    def private_bytes(self) -> bytes:
        return self._key

    def sign(self, data: bytes, *, deterministic: bool = False, recid: bool = False,
             rng: Rng = system_rng) -> Signature:
        return Signature(sign(self._key, data), None)
