"""Sign, verify, ECDH, lock and unlock."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature

from ...wire.defs import EPHEMERAL_SLOT, Command, LockKey
from ...wire.errors import AuthenticationError, InvalidArgumentError
from ..args import Args
from ..crypto import PublicKey, derive_key, open_sealed, seal
from ..crypto.ecdh import MAX_SALT_INFO, pbkdf2_work
from ..crypto.parallel import predrawn_rng, sign_many, verify_many
from ..dispatch import command
from ..offload import OFFLOAD_ITEMS, OFFLOAD_PBKDF2_WORK, maybe_offload

if TYPE_CHECKING:
    from ..module import Module

MAX_MESSAGE = 1024 * 1024
MAX_BATCH = 4096
MAX_LOCK = 2 * 1024 * 1024
LOCK_MAGIC = b"SCL1"
_SIG = 64


def _signature(module: Module, slot: int, data: bytes, deterministic: bool, recid: bool) -> list[Any]:
    sig = module.private_key(slot).sign(data, deterministic=deterministic, recid=recid, rng=module.rng)
    return [sig.raw, sig.recovery_id]


@command(Command.SIGN)
def sign(module: Module, args: Args) -> list[Any]:
    """Sign a 32-byte digest (ECDSA) or a message (Ed25519); returns ``[raw, recovery_id]``.

    :raises KeyTypeMismatchError: for an X25519 slot.
    """
    return _signature(
        module, args.int("slot"), args.bytes("data", max=MAX_MESSAGE), args.bool("deterministic", False),
        args.bool("recid", False),
    )


@command(Command.SIGN_BATCH)
def sign_batch(module: Module, args: Args) -> Any:
    """Sign many digests with one slot in one request (a large batch runs off the event loop)."""
    slot, det, recid = args.int("slot"), args.bool("deterministic", False), args.bool("recid", False)
    items = args.list("data", max=MAX_BATCH)
    if not all(isinstance(d, bytes) and len(d) <= MAX_MESSAGE for d in items):
        raise InvalidArgumentError("argument 'data' must be a list of byte strings")
    key = module.private_key(slot)
    rng = predrawn_rng(key, len(items), deterministic=det, rng=module.rng)

    def work() -> list[list[Any]]:
        signatures = sign_many(key, items, deterministic=det, recid=recid, rng=rng)
        return [[sig.raw, sig.recovery_id] for sig in signatures]

    return maybe_offload(work, len(items) >= OFFLOAD_ITEMS)


def _verifier(module: Module, args: Args) -> PublicKey:
    if args.has("public_key"):
        return PublicKey(args.key_type(), args.bytes("public_key", max=512))
    slot, foreign = args.int("slot"), args.bool("foreign", False)
    if slot == EPHEMERAL_SLOT and not foreign:
        key = module.private_key(slot)
        return PublicKey(key.key_type, key.public)
    return module.store.public_key(slot, foreign=foreign)


@command(Command.VERIFY)
def verify(module: Module, args: Args) -> bool:
    """Verify with a slot's key, a foreign key, or an inline ``public_key`` + ``key_type``.

    :raises InvalidSignatureError: if the signature does not verify.
    """
    _verifier(module, args).verify(args.bytes("data", max=MAX_MESSAGE), args.bytes("signature", max=512))
    return True


@command(Command.VERIFY_BATCH)
def verify_batch(module: Module, args: Args) -> Any:
    """Verify many (data, signature) pairs against one key; returns one boolean each (a large
    batch runs off the event loop)."""
    verifier = _verifier(module, args)
    pairs = args.list("items", max=MAX_BATCH)
    if not all(isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, bytes) for p in pair) for pair in pairs):
        raise InvalidArgumentError("argument 'items' must be a list of [data, signature] pairs")
    items = [(data, signature) for data, signature in pairs]
    return maybe_offload(lambda: verify_many(verifier, items), len(items) >= OFFLOAD_ITEMS)


@command(Command.ECDH)
def ecdh(module: Module, args: Args) -> Any:
    """ECDH between a local slot and a peer key (raw bytes, or a slot number with ``peer_slot``).
    A costly PBKDF2 derivation runs off the event loop.

    :raises KeyTypeMismatchError: for an Ed25519 slot or mismatched types.
    :raises InvalidKeyError: for an invalid peer key.
    :raises LimitExceededError: for PBKDF2 work over the per-request limits.
    """
    key = module.private_key(args.int("slot"))
    if args.has("peer_slot"):
        peer_foreign = args.bool("peer_foreign", True)
        peer_slot = args.int("peer_slot")
        record = module.store.get_foreign(peer_slot) if peer_foreign else module.store.get(peer_slot)
        peer = record.public
    else:
        peer = args.bytes("peer_public_key", max=512)
    kdf, iterations, length = args.kdf(), args.int("iterations", 1), args.int("length", 32, min=1, max=1024)
    salt, info = args.bytes("salt", b"", max=MAX_SALT_INFO), args.bytes("info", b"", max=MAX_SALT_INFO)
    work = pbkdf2_work(kdf, iterations, length)
    secret = key.exchange(peer)
    return maybe_offload(lambda: derive_key(kdf, secret, salt=salt, info=info, iterations=iterations, length=length),
                         work >= OFFLOAD_PBKDF2_WORK)


def _lock_aad(key_id: LockKey) -> bytes:
    return LOCK_MAGIC + bytes([key_id])


@command(Command.LOCK)
def lock(module: Module, args: Args) -> bytes:
    """Encrypt and authenticate data under the module's lock key or the cloud key, then sign the
    blob with the module identity key.

    Blob: ``SCL1`` | key id (1) | nonce (12) | ciphertext | tag (16) | Ed25519 signature (64).
    """
    key_id = LockKey(args.int("key", int(LockKey.MODULE), min=0, max=1))
    header = _lock_aad(key_id)
    key = module.lock_key if key_id is LockKey.MODULE else module.cloud_key
    body = header + seal(key, args.bytes("data", max=MAX_LOCK), header, module.rng)
    return body + module.identity.sign(body)


@command(Command.UNLOCK)
def unlock(module: Module, args: Args) -> bytes:
    """Reverse :func:`lock`. A module-key blob must carry this module's signature; a cloud-key
    blob is authenticated by the shared key alone (another module sharing it may have made it).

    :raises AuthenticationError: if the blob fails any check (which one is not said).
    """
    blob = args.bytes("blob", max=MAX_LOCK + 256)
    if len(blob) < len(LOCK_MAGIC) + 1 + 28 + _SIG or not hmac.compare_digest(blob[:4], LOCK_MAGIC):
        raise AuthenticationError("authentication failed")
    try:
        key_id = LockKey(blob[4])
    except ValueError:
        raise AuthenticationError("authentication failed") from None
    body, signature = blob[:-_SIG], blob[-_SIG:]
    if key_id is LockKey.MODULE:
        try:
            module.identity.public_key().verify(signature, body)
        except InvalidSignature:
            raise AuthenticationError("authentication failed") from None
    key = module.lock_key if key_id is LockKey.MODULE else module.cloud_key
    return open_sealed(key, body[5:], _lock_aad(key_id))

