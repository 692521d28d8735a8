"""Enrol a LUKS2 volume under the module, and re-key it to a per-unit volume key.

Seed "Method 3", done so that no interruption can lock the volume: every step reads the volume's
metadata and the ``softscm`` token first, does one change cryptsetup writes atomically, and records
what it did in the token. A rerun therefore continues where the last run stopped, and at every
point the old key (the factory passphrase) or the new one (the module's key) opens the volume:

1. ``WRITE_TOKEN``    a new key from the module; its locked blob, the slot it will take and the
                      default slots to remove go into the token (state ``adding``).
2. ``ADD_KEY``        the key is added in that slot, authorised by the default passphrase.
3. ``BIND_TOKEN``     the token is assigned to the slot (the slot is the module's).
4. ``VERIFY``         the key the module unlocks opens that slot (``open --test-passphrase``).
5. ``REMOVE_DEFAULT`` the default slots are removed, authorised by the module's key (``enrolled``).
6. ``REKEY_START``    (re-key only) the digest of the current volume key is recorded (``rekeying``).
7. ``REKEY_DATA``     ``cryptsetup reencrypt``: a new random volume key, its key slot for the same
                      module key, and the data; cut off, it is resumed (``--resume-only``) where
                      it stopped, and both volume keys' slots open the volume meanwhile.
8. ``FINISH``         the token names the slot of the new volume key (``rekeyed``).
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, unique
from pathlib import Path

from ...wire.errors import EnrolmentError, LuksKeyError
from .cryptsetup import RANDOM_KEY_PBKDF, Cryptsetup, LuksMetadata, Pbkdf, ProgressCallback
from .custody import KeyCustody
from .token import TOKEN_TYPE, EnrolState, SoftscmToken


@unique
class Step(Enum):
    WRITE_TOKEN = "write-token"
    ADD_KEY = "add-key"
    BIND_TOKEN = "bind-token"
    VERIFY = "verify"
    REMOVE_DEFAULT = "remove-default"
    REKEY_START = "rekey-start"
    REKEY_DATA = "rekey-data"
    FINISH = "finish"


StepCallback = Callable[[Step], None]


@dataclass(frozen=True)
class VolumeStatus:
    """What a volume's metadata says about its enrolment (no key needed)."""

    device: str
    uuid: str
    state: EnrolState | None  # None: not enrolled
    serial: str | None
    keyslot: int | None
    keyslots: tuple[int, ...]
    default_keyslots: tuple[int, ...]  # default slots still present
    token_id: int | None
    reencrypting: bool
    volume_key_digest: str  # the public digest of the data's volume key


@dataclass(frozen=True)
class EnrolResult:
    """Where the volume ended and which steps this run carried out."""

    state: EnrolState
    keyslot: int
    token_id: int
    steps: tuple[Step, ...]


class Enroller:
    """Enrols volumes with a :class:`KeyCustody` through a :class:`Cryptsetup` driver.

    ``on_step`` is called before each step runs, ``on_progress`` with re-encryption progress.
    """

    def __init__(self, custody: KeyCustody, cryptsetup: Cryptsetup | None = None, *,
                 pbkdf: Pbkdf = RANDOM_KEY_PBKDF, on_step: StepCallback | None = None,
                 on_progress: ProgressCallback | None = None) -> None:
        self.custody = custody
        self.cryptsetup = cryptsetup or Cryptsetup()
        self.pbkdf = pbkdf
        self._on_step = on_step
        self._on_progress = on_progress

    # -- reading ------------------------------------------------------------------------------------

    def status(self, device: str | Path) -> VolumeStatus:
        """See :func:`read_status`."""
        return read_status(self.cryptsetup, device)

    def unlock_key(self, device: str | Path, *, verify: bool = True) -> bytes:
        """The key that opens the enrolled volume, from its token through the module.

        :raises EnrolmentError: if the volume has no usable softscm token.
        :raises ModuleStateError: if the module is not READY. :raises AuthenticationError: if another
            module locked the token. :raises LuksKeyError: if ``verify`` and the key does not open the volume.
        """
        meta = self.cryptsetup.metadata(device)
        found = _find_token(meta)
        if found is None or not found[1].bound:
            raise EnrolmentError(f"{device} has no softscm key slot")
        token = found[1]
        key = self.custody.unlock_volume_key(token.blob, _volume_id(self.cryptsetup, device))
        if verify:  # mid re-encryption only the pair of slots opens it, not one alone
            self.cryptsetup.test_key(device, key, keyslot=None if meta.reencrypting else token.keyslot)
        return key

    # -- enrolling ----------------------------------------------------------------------------------

    def enroll(self, device: str | Path, default_passphrase: bytes | None, *, reencrypt: bool = False,
               key_size: int = 64) -> EnrolResult:
        """Put the volume under the module (and with ``reencrypt`` give it its own volume key),
        starting or continuing from wherever the volume stands.

        ``default_passphrase`` is needed until the module's key slot exists; a rerun after that
        may pass ``None``.

        :raises LuksKeyError: if the default passphrase opens no key slot.
        :raises EnrolmentError: if the volume is in a state this cannot continue from (another
            module's token, a foreign re-encryption in progress, a key slot that is not the module's).
        :raises ModuleStateError, AuthenticationError: from the module.
        :raises LuksError: if cryptsetup fails.
        """
        done: list[Step] = []
        token_id, token = self._start(device, default_passphrase, key_size, done)
        target = EnrolState.REKEYED if reencrypt or token.state is EnrolState.REKEYING else EnrolState.ENROLLED
        token_id, token = self._advance(device, token_id, token, default_passphrase, target, done)
        return EnrolResult(token.state, token.keyslot, token_id, tuple(done))

    def rekey(self, device: str | Path) -> EnrolResult:
        """Re-encrypt an enrolled volume to a new random volume key (or finish one that was cut off).

        :raises EnrolmentError: if the volume is not enrolled. See :meth:`enroll` for the rest.
        """
        meta = self.cryptsetup.metadata(device)
        found = _find_token(meta)
        if found is None or found[1].state is EnrolState.ADDING:
            raise EnrolmentError(f"{device} is not enrolled; enrol it first")
        token_id, token = found
        done: list[Step] = []
        if token.state is EnrolState.REKEYED:  # a further rotation
            token = self._begin_rekey(device, meta, token_id, token, done)
        token_id, token = self._advance(device, token_id, token, None, EnrolState.REKEYED, done)
        return EnrolResult(token.state, token.keyslot, token_id, tuple(done))

    def _start(self, device: str | Path, default_passphrase: bytes | None, key_size: int,
               done: list[Step]) -> tuple[int, SoftscmToken]:
        meta = self.cryptsetup.metadata(device)
        found = _find_token(meta)
        if found is not None:
            if found[1].serial != self.custody.serial:
                raise EnrolmentError(f"{device} is enrolled with module {found[1].serial}, not this one")
            return found
        if meta.reencrypting:
            raise EnrolmentError(f"{device} has a re-encryption in progress that softscm did not start")
        if default_passphrase is None:
            raise EnrolmentError("enrolling a new volume needs its default passphrase")
        defaults = tuple(slot for slot, keyslot in sorted(meta.keyslots.items()) if keyslot.type == "luks2"
                         and self.cryptsetup.opens(device, default_passphrase, keyslot=slot))
        if not defaults:
            raise LuksKeyError("the default passphrase opens no key slot of the volume")
        # the next step has the module unlock the key again
        _, blob = self.custody.new_volume_key(key_size, _volume_id(self.cryptsetup, device))
        token = SoftscmToken(blob, self.custody.serial, meta.free_keyslot(), EnrolState.ADDING, defaults)
        token_id = min(set(range(len(meta.tokens) + 1)) - set(meta.tokens))
        self._step(Step.WRITE_TOKEN, done)
        self.cryptsetup.import_token(device, token.to_json(), token_id)
        return token_id, token

    def _advance(self, device: str | Path, token_id: int, token: SoftscmToken, default_passphrase: bytes | None,
                 target: EnrolState, done: list[Step]) -> tuple[int, SoftscmToken]:
        order = list(EnrolState)
        while token.state is not target and order.index(token.state) < order.index(target):
            meta = self.cryptsetup.metadata(device)
            if token.state is EnrolState.ADDING:
                token = self._adding(device, meta, token_id, token, default_passphrase, done)
            elif token.state is EnrolState.ENROLLED:
                token = self._begin_rekey(device, meta, token_id, token, done)
            else:
                token = self._rekeying(device, meta, token_id, token, done)
        return token_id, token

    def _adding(self, device: str | Path, meta: LuksMetadata, token_id: int, token: SoftscmToken,
                default_passphrase: bytes | None, done: list[Step]) -> SoftscmToken:
        key = self.custody.unlock_volume_key(token.blob, _volume_id(self.cryptsetup, device))
        if token.keyslot not in meta.keyslots:
            if default_passphrase is None:
                raise EnrolmentError("adding the module's key slot needs the default passphrase")
            self._step(Step.ADD_KEY, done)
            self.cryptsetup.add_key(device, auth=default_passphrase, new=key, slot=token.keyslot, pbkdf=self.pbkdf)
            return token
        if not token.bound:
            if not self.cryptsetup.opens(device, key, keyslot=token.keyslot):
                raise EnrolmentError(f"key slot {token.keyslot} was not added by this enrolment")
            self._step(Step.BIND_TOKEN, done)
            bound = token.evolve(bound=True)
            self._write(device, token_id, bound)
            return bound
        self._step(Step.VERIFY, done)
        self.cryptsetup.test_key(device, key, keyslot=token.keyslot)
        remaining = [slot for slot in token.default_keyslots if slot in meta.keyslots and slot != token.keyslot]
        if remaining:
            self._step(Step.REMOVE_DEFAULT, done)
            for slot in remaining:
                self.cryptsetup.kill_slot(device, slot, auth=key)
        enrolled = token.evolve(state=EnrolState.ENROLLED, default_keyslots=())
        self._write(device, token_id, enrolled)
        return enrolled

    def _begin_rekey(self, device: str | Path, meta: LuksMetadata, token_id: int, token: SoftscmToken,
                     done: list[Step]) -> SoftscmToken:
        if meta.reencrypting:
            raise EnrolmentError(f"{device} has a re-encryption in progress that softscm did not start")
        self._step(Step.REKEY_START, done)
        started = token.evolve(state=EnrolState.REKEYING, rekey_from=meta.segment_digest().value)
        self._write(device, token_id, started)
        return started

    def _rekeying(self, device: str | Path, meta: LuksMetadata, token_id: int, token: SoftscmToken,
                  done: list[Step]) -> SoftscmToken:
        key = self.custody.unlock_volume_key(token.blob, _volume_id(self.cryptsetup, device))
        if meta.reencrypting:
            self._step(Step.REKEY_DATA, done)
            self.cryptsetup.reencrypt(device, key, resume_only=True, progress=self._on_progress)
            return token
        if hmac.compare_digest(meta.segment_digest().value, token.rekey_from):
            self._step(Step.REKEY_DATA, done)
            self.cryptsetup.reencrypt(device, key, keyslot=token.keyslot, pbkdf=self.pbkdf, progress=self._on_progress)
            return token
        # done: the token's slot for the new volume key, and perhaps the old slot if cryptsetup was
        # cut off while dropping it
        current = meta.segment_digest().id
        bound = meta.tokens[token_id].keyslots
        new = [slot for slot in bound if meta.keyslots[slot].digest == current]
        if len(new) != 1:
            raise EnrolmentError("after re-encryption the softscm token has no single key slot for the volume key")
        self._step(Step.FINISH, done)
        self.cryptsetup.test_key(device, key, keyslot=new[0])
        for stale in (slot for slot in bound if slot != new[0]):
            self.cryptsetup.kill_slot(device, stale, auth=key)
        finished = token.evolve(state=EnrolState.REKEYED, keyslot=new[0], rekey_from="")
        self._write(device, token_id, finished)
        return finished

    def _write(self, device: str | Path, token_id: int, token: SoftscmToken) -> None:
        self.cryptsetup.import_token(device, token.to_json(), token_id, replace=True)

    def _step(self, step: Step, done: list[Step]) -> None:
        if self._on_step is not None:
            self._on_step(step)
        done.append(step)


def read_status(cryptsetup: Cryptsetup, device: str | Path) -> VolumeStatus:
    """The volume's enrolment state, from its metadata alone (no module, no key).

    :raises LuksError: if it is not LUKS2 or the token is malformed.
    """
    meta = cryptsetup.metadata(device)
    found = _find_token(meta)
    token = found[1] if found else None
    defaults = tuple(k for k in (token.default_keyslots if token else ()) if k in meta.keyslots)
    return VolumeStatus(str(device), cryptsetup.uuid(device), token.state if token else None,
                        token.serial if token else None, token.keyslot if token else None,
                        tuple(sorted(meta.keyslots)), defaults, found[0] if found else None, meta.reencrypting,
                        meta.segment_digest().value)


def _volume_id(cryptsetup: Cryptsetup, device: str | Path) -> bytes:
    """What a key's blob is bound to: the volume's LUKS UUID (16 bytes)."""
    return uuid.UUID(cryptsetup.uuid(device)).bytes


def _find_token(meta: LuksMetadata) -> tuple[int, SoftscmToken] | None:
    """The volume's one softscm token. :raises EnrolmentError: if there are several."""
    tokens = meta.tokens_of_type(TOKEN_TYPE)
    if len(tokens) > 1:
        raise EnrolmentError("the volume has more than one softscm token")
    if not tokens:
        return None
    return tokens[0].id, SoftscmToken.parse(tokens[0].fields)
