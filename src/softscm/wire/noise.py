"""The Noise ``XX`` handshake, ``Noise_XX_25519_ChaChaPoly_SHA256`` (Noise Protocol Framework,
revision 34), over ``cryptography``'s X25519, ChaCha20-Poly1305 and HKDF.

Only the protocol's bookkeeping lives here (the CipherState, SymmetricState and HandshakeState of
the specification's section 5, for the one pattern)::

    XX:
      -> e
      <- e, ee, s, es
      -> s, se

The ``noiseprotocol`` package was considered and not used: its last release is from 2020. The
tests check this implementation against it message for message.
"""

from __future__ import annotations

import hmac
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import ChannelError

PROTOCOL_NAME = b"Noise_XX_25519_ChaChaPoly_SHA256"
DHLEN = 32
HASHLEN = 32
TAGLEN = 16
MAX_NONCE = 2**64 - 1  # reserved by the specification: a CipherState never uses it
_NONCE = struct.Struct("<4xQ")  # 32 zero bits, then the 64-bit counter little-endian


def nonce(n: int) -> bytes:
    """The ChaChaPoly nonce for counter ``n``."""
    return _NONCE.pack(n)


def public_bytes(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


def _dh(private: X25519PrivateKey, public: bytes) -> bytes:
    try:
        return private.exchange(X25519PublicKey.from_public_bytes(bytes(public)))
    except ValueError:  # a low-order point gives an all-zero secret, which cryptography refuses
        raise ChannelError("the handshake failed") from None


def _hash(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def _hkdf(chaining_key: bytes, ikm: bytes) -> tuple[bytes, bytes]:
    """Noise's HKDF with two outputs: RFC 5869 with the chaining key as salt and no info."""
    out = HKDF(hashes.SHA256(), 2 * HASHLEN, salt=chaining_key, info=b"").derive(ikm)
    return out[:HASHLEN], out[HASHLEN:]


class CipherState:
    """A key and a counter nonce (specification section 5.1)."""

    def __init__(self, key: bytes | None = None) -> None:
        self._aead = ChaCha20Poly1305(key) if key is not None else None
        self.n = 0

    @property
    def has_key(self) -> bool:
        return self._aead is not None

    def encrypt_with_ad(self, ad: bytes, plaintext: bytes) -> bytes:
        """:raises ChannelError: when the nonces are used up."""
        if self._aead is None:
            return plaintext
        if self.n >= MAX_NONCE:
            raise ChannelError("the channel has used every nonce; reconnect")
        ciphertext = self._aead.encrypt(nonce(self.n), plaintext, ad)
        self.n += 1
        return ciphertext

    def decrypt_with_ad(self, ad: bytes, ciphertext: bytes) -> bytes:
        """:raises ChannelError: if the ciphertext does not authenticate."""
        if self._aead is None:
            return ciphertext
        plaintext = self.decrypt_at(self.n, ad, ciphertext)
        self.n += 1
        return plaintext

    def decrypt_at(self, n: int, ad: bytes, ciphertext: bytes) -> bytes:
        """Decrypt with an explicit counter (a transport record carries its own).

        :raises ChannelError: if it does not authenticate.
        """
        assert self._aead is not None, "a transport cipher always has a key"
        try:
            return self._aead.decrypt(nonce(n), ciphertext, ad)
        except InvalidTag:
            raise ChannelError("a frame failed authentication") from None

    def encrypt_at(self, n: int, ad: bytes, plaintext: bytes) -> bytes:
        assert self._aead is not None, "a transport cipher always has a key"
        return self._aead.encrypt(nonce(n), plaintext, ad)


class SymmetricState:
    """The chaining key, handshake hash and handshake cipher (specification section 5.2)."""

    def __init__(self, prologue: bytes) -> None:
        self.h = PROTOCOL_NAME if len(PROTOCOL_NAME) == HASHLEN else _hash(PROTOCOL_NAME)
        self.ck = self.h
        self.cipher = CipherState()
        self.mix_hash(prologue)

    def mix_key(self, ikm: bytes) -> None:
        self.ck, key = _hkdf(self.ck, ikm)
        self.cipher = CipherState(key)

    def mix_hash(self, data: bytes) -> None:
        self.h = _hash(self.h + data)

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher.encrypt_with_ad(self.h, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        plaintext = self.cipher.decrypt_with_ad(self.h, ciphertext)
        self.mix_hash(ciphertext)
        return plaintext

    def split(self) -> tuple[CipherState, CipherState]:
        first, second = _hkdf(self.ck, b"")
        return CipherState(first), CipherState(second)


class XXHandshake:
    """One side of an ``XX`` handshake. The initiator writes messages 1 and 3 and reads 2; the
    responder reads 1 and 3 and writes 2. After message 3 :meth:`split` gives the transport
    ciphers ``(send, receive)`` for this side, and :attr:`remote_static` is the peer's key.

    Every read raises :class:`~softscm.wire.errors.ChannelError` for a message of the wrong length
    or one that does not authenticate; the message says no more than that the handshake failed.
    """

    MESSAGE_1 = DHLEN
    MESSAGE_2 = DHLEN + DHLEN + TAGLEN + TAGLEN  # e, s sealed, empty payload sealed
    MESSAGE_3 = DHLEN + TAGLEN + TAGLEN  # s sealed, empty payload sealed

    def __init__(self, *, initiator: bool, static: X25519PrivateKey, prologue: bytes,
                 ephemeral: X25519PrivateKey | None = None) -> None:
        self.initiator = initiator
        self._s = static
        self._e = ephemeral
        self._re: bytes | None = None
        self.remote_static: bytes | None = None
        self._state = SymmetricState(prologue)
        self._step = 0

    @property
    def handshake_hash(self) -> bytes:
        """The transcript hash; the same on both sides once the handshake is complete."""
        return self._state.h

    def _expect(self, step: int, initiator: bool) -> None:
        if self._step != step or self.initiator is not initiator:
            raise ChannelError("handshake message out of order")
        self._step += 1

    def _ephemeral(self) -> X25519PrivateKey:
        if self._e is None:
            self._e = X25519PrivateKey.generate()
        return self._e

    def write_message_1(self, payload: bytes = b"") -> bytes:
        self._expect(0, True)
        e = public_bytes(self._ephemeral())
        self._state.mix_hash(e)
        return e + self._state.encrypt_and_hash(payload)

    def read_message_1(self, message: bytes) -> bytes:
        self._expect(0, False)
        if len(message) < DHLEN:
            raise ChannelError("the handshake failed")
        self._re = bytes(message[:DHLEN])
        self._state.mix_hash(self._re)
        return self._state.decrypt_and_hash(message[DHLEN:])

    def write_message_2(self, payload: bytes = b"") -> bytes:
        self._expect(1, False)
        assert self._re is not None
        e = self._ephemeral()
        out = public_bytes(e)
        self._state.mix_hash(out)
        self._state.mix_key(_dh(e, self._re))  # ee
        out += self._state.encrypt_and_hash(public_bytes(self._s))  # s
        self._state.mix_key(_dh(self._s, self._re))  # es
        return out + self._state.encrypt_and_hash(payload)

    def read_message_2(self, message: bytes) -> bytes:
        self._expect(1, True)
        if len(message) < self.MESSAGE_2:
            raise ChannelError("the handshake failed")
        self._re = bytes(message[:DHLEN])
        self._state.mix_hash(self._re)
        self._state.mix_key(_dh(self._ephemeral(), self._re))  # ee
        self.remote_static = self._state.decrypt_and_hash(message[DHLEN:DHLEN + DHLEN + TAGLEN])  # s
        self._state.mix_key(_dh(self._ephemeral(), self.remote_static))  # es
        return self._state.decrypt_and_hash(message[DHLEN + DHLEN + TAGLEN:])

    def write_message_3(self, payload: bytes = b"") -> bytes:
        self._expect(2, True)
        assert self._re is not None
        out = self._state.encrypt_and_hash(public_bytes(self._s))  # s
        self._state.mix_key(_dh(self._s, self._re))  # se
        return out + self._state.encrypt_and_hash(payload)

    def read_message_3(self, message: bytes) -> bytes:
        self._expect(2, False)
        if len(message) < self.MESSAGE_3:
            raise ChannelError("the handshake failed")
        self.remote_static = self._state.decrypt_and_hash(message[:DHLEN + TAGLEN])  # s
        self._state.mix_key(_dh(self._ephemeral(), self.remote_static))  # se
        return self._state.decrypt_and_hash(message[DHLEN + TAGLEN:])

    def split(self) -> tuple[CipherState, CipherState]:
        """``(send, receive)`` for this side. :raises ChannelError: before message 3."""
        if self._step != 3:
            raise ChannelError("the handshake is not complete")
        first, second = self._state.split()
        return (first, second) if self.initiator else (second, first)


def same_key(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two public keys."""
    return hmac.compare_digest(a, b)
