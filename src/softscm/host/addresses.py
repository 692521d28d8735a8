"""Addresses and extended public keys for wallet nodes, computed on the host from public data.

An Ethereum address (EIP-55 checksum case), a Bitcoin P2PKH address (base58check) or a P2WPKH
address (BIP-173 bech32), chosen by the path's purpose and coin type (BIP-44 / BIP-84), and a
BIP-32 ``xpub`` from a node's public key, chain code and place in the tree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import bech32
from Crypto.Hash import RIPEMD160, keccak
from slip10.base58 import b58encode_check

HARDENED = 0x80000000
PURPOSE_BIP44, PURPOSE_BIP84 = 44, 84
COIN_BITCOIN, COIN_TESTNET, COIN_ETHEREUM = 0, 1, 60
XPUB_VERSION = {False: bytes.fromhex("0488b21e"), True: bytes.fromhex("043587cf")}  # xpub / tpub


@dataclass(frozen=True)
class Step:
    index: int
    hardened: bool

    @property
    def number(self) -> int:
        """The BIP-32 child number (hardened ones have the top bit set)."""
        return self.index | HARDENED if self.hardened else self.index


def parse_path(path: str) -> tuple[Step, ...]:
    """``m/44'/60'/0'/0/0`` (``'``, ``h`` or ``H`` for hardened) as steps below the master.

    :raises ValueError: for anything else.
    """
    parts = path.strip().split("/")
    if parts[0] != "m":
        raise ValueError(f"a path starts at m, not {path!r}")
    steps = []
    for part in parts[1:]:
        hardened = part[-1:] in ("'", "h", "H")
        digits = part[:-1] if hardened else part
        if not digits.isdigit() or int(digits) >= HARDENED:
            raise ValueError(f"{part!r} in {path!r} is not a child index")
        steps.append(Step(int(digits), hardened))
    return tuple(steps)


def format_path(steps: tuple[Step, ...]) -> str:
    return "/".join(["m", *(f"{s.index}'" if s.hardened else str(s.index) for s in steps)])


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256, as Bitcoin hashes public keys."""
    return RIPEMD160.new(hashlib.sha256(data).digest()).digest()


def compress(public: bytes) -> bytes:
    """A secp256k1 point (64-byte X||Y, 65-byte uncompressed or 33-byte compressed) in compressed form.

    :raises ValueError: for another length.
    """
    if len(public) == 33:
        return public
    point = public[1:] if len(public) == 65 else public
    if len(point) != 64:
        raise ValueError("a secp256k1 public key is 33, 64 or 65 bytes")
    return bytes([2 + (point[63] & 1)]) + point[:32]


def fingerprint(public: bytes) -> bytes:
    """A BIP-32 key fingerprint: the first 4 bytes of HASH160 of the compressed key."""
    return hash160(compress(public))[:4]


def eip55_address(public: bytes) -> str:
    """The Ethereum address of a 64-byte X||Y (or 65-byte uncompressed) key, in EIP-55 mixed case.

    :raises ValueError: for a compressed key.
    """
    lower = keccak256(_point(public))[-20:].hex()
    nibbles = keccak256(lower.encode()).hex()
    return "0x" + "".join(c.upper() if int(n, 16) >= 8 else c for c, n in zip(lower, nibbles))


def _point(public: bytes) -> bytes:
    """The 64-byte X||Y form. :raises ValueError: for a compressed key (it would need the curve)."""
    if len(public) == 65:
        return public[1:]
    if len(public) != 64:
        raise ValueError("an Ethereum address needs the 64-byte X||Y public key")
    return public


def p2pkh_address(public: bytes, *, testnet: bool = False) -> str:
    """The Bitcoin pay-to-public-key-hash address of the compressed key (``1...``; testnet ``m``/``n``)."""
    return b58encode_check(bytes([0x6F if testnet else 0x00]) + hash160(compress(public))).decode()


def p2wpkh_address(public: bytes, *, testnet: bool = False) -> str:
    """The native SegWit v0 pay-to-witness-public-key-hash address (``bc1q...``; testnet ``tb1q...``)."""
    address = bech32.encode("tb" if testnet else "bc", 0, hash160(compress(public)))
    if address is None:
        raise ValueError("the key hash could not be encoded")  # cannot happen for a 20-byte program
    return address


def address_for_path(path: str, public: bytes) -> str | None:
    """The address a secp256k1 node at ``path`` stands for, by the path's purpose and coin type:
    m/44'/60'/... Ethereum, m/44'/0'/... P2PKH, m/84'/0'/... P2WPKH (coin 1': testnet); else None.

    :raises ValueError: for a malformed path.
    """
    steps = parse_path(path)
    if len(steps) < 2 or not (steps[0].hardened and steps[1].hardened):
        return None
    purpose, coin = steps[0].index, steps[1].index
    if purpose == PURPOSE_BIP44 and coin == COIN_ETHEREUM:
        return eip55_address(public)
    if coin not in (COIN_BITCOIN, COIN_TESTNET):
        return None
    if purpose == PURPOSE_BIP44:
        return p2pkh_address(public, testnet=coin == COIN_TESTNET)
    if purpose == PURPOSE_BIP84:
        return p2wpkh_address(public, testnet=coin == COIN_TESTNET)
    return None


def serialize_xpub(public: bytes, chain_code: bytes, steps: tuple[Step, ...], parent_public: bytes, *,
                   testnet: bool = False) -> str:
    """A BIP-32 extended public key for the node at ``steps`` below the master (at least one step),
    given its parent's public key for the fingerprint.

    :raises ValueError: for the master node (it has no parent) or a chain code that is not 32 bytes.
    """
    if not steps:
        raise ValueError("the master node's xpub needs no parent; this serialises a child")
    if len(chain_code) != 32:
        raise ValueError("a chain code is 32 bytes")
    body = (XPUB_VERSION[testnet] + bytes([len(steps)]) + fingerprint(parent_public)
            + steps[-1].number.to_bytes(4, "big") + chain_code + compress(public))
    return b58encode_check(body).decode()
