"""Sign, verify, ECDH, lock and unlock."""

from __future__ import annotations

from ...wire.errors import InvalidArgumentError
from ...wire.messages import Done
from ...wire.messages.operations import (
    Blob,
    EcdhRequest,
    LockRequest,
    Plaintext,
    Secret,
    Signature,
    Signatures,
    SignBatchRequest,
    SignRequest,
    UnlockRequest,
    Verdicts,
    Verifier,
    VerifyBatchRequest,
    VerifyRequest,
)
from ..crypto import PublicKey, derive_key
from ..crypto.lockbox import LockBox
from ..crypto.parallel import sign_many, verify_many
from ..dispatch import Route, route
from ..keyslots import KeySlots


class OperationCommands:
    def __init__(self, keys: KeySlots, lockbox: LockBox) -> None:
        self._keys = keys
        self._lockbox = lockbox

    def routes(self) -> list[Route]:
        return [
            route(SignRequest, self.sign),
            route(SignBatchRequest, self.sign_batch),
            route(VerifyRequest, self.verify),
            route(VerifyBatchRequest, self.verify_batch),
            route(EcdhRequest, self.ecdh),
            route(LockRequest, self.lock),
            route(UnlockRequest, self.unlock),
        ]

    def sign(self, request: SignRequest) -> Signature:
        """Sign a 32-byte digest (ECDSA) or a message (Ed25519).

        :raises KeyTypeMismatchError: for an X25519 slot.
        """
        keys = self._keys
        return keys.private_key(request.slot).sign(request.data, deterministic=request.deterministic,
                                                   recid=request.recid, rng=keys.rng)

    def sign_batch(self, request: SignBatchRequest) -> Signatures:
        """Sign many digests with one slot in one request."""
        return Signatures(tuple(sign_many(self._keys.private_key(request.slot), list(request.data),
                                          deterministic=request.deterministic, recid=request.recid,
                                          rng=self._keys.rng)))

    def _verifier(self, key: Verifier) -> PublicKey:
        if key.public_key is not None:
            if key.key_type is None:
                raise InvalidArgumentError("argument 'key_type' is required with a public key")
            return PublicKey(key.key_type, key.public_key)
        if key.slot is None:
            raise InvalidArgumentError("give a slot or a public key")
        return self._keys.public_key(key.slot, foreign=key.foreign)

    def verify(self, request: VerifyRequest) -> Done:
        """Verify with a slot's key, a foreign key, or a public key given inline.

        :raises InvalidSignatureError: if the signature does not verify.
        """
        self._verifier(request.key).verify(request.data, request.signature)
        return Done()

    def verify_batch(self, request: VerifyBatchRequest) -> Verdicts:
        """Verify many (data, signature) pairs against one key; one verdict each."""
        return Verdicts(tuple(verify_many(self._verifier(request.key), list(request.items))))

    def ecdh(self, request: EcdhRequest) -> Secret:
        """ECDH between a local slot and a peer key (raw bytes, or a slot), then the KDF.

        :raises KeyTypeMismatchError: for an Ed25519 slot or mismatched types.
        :raises InvalidKeyError: for an invalid peer key.
        """
        key = self._keys.private_key(request.slot)
        if request.peer_slot is not None:
            store = self._keys.store
            peer = (store.get_foreign(request.peer_slot) if request.peer_foreign else store.get(request.peer_slot)).public
        elif request.peer_public_key is not None:
            peer = request.peer_public_key
        else:
            raise InvalidArgumentError("give a peer public key or a peer slot")
        return Secret(derive_key(request.kdf, key.exchange(peer), salt=request.salt, info=request.info,
                                 iterations=request.iterations, length=request.length))

    def lock(self, request: LockRequest) -> Blob:
        """Encrypt and authenticate data under the module's lock key or the cloud key."""
        return Blob(self._lockbox.lock(request.data, request.key))

    def unlock(self, request: UnlockRequest) -> Plaintext:
        """:raises AuthenticationError: if the blob fails any check (which one is not said)."""
        return Plaintext(self._lockbox.unlock(request.blob))
