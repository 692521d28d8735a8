"""Short-Weierstrass curve constants and the public-key recovery used for ECDSA recovery ids.

Recovery only touches public values (r, s, the digest and the public key); it decides which of
the two candidate points produced a signature. Signing itself stays in OpenSSL / libsecp256k1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Curve:
    name: str
    p: int
    a: int
    b: int
    n: int
    gx: int
    gy: int


P256 = Curve(
    "nistp256",
    p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
    a=-3,
    b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)
SECP256K1 = Curve(
    "secp256k1",
    p=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F,
    a=0,
    b=7,
    n=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    gx=0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    gy=0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)

_Point = tuple[int, int] | None


def _add(c: Curve, p1: _Point, p2: _Point) -> _Point:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % c.p == 0:
        return None
    if p1 == p2:
        lam = (3 * x1 * x1 + c.a) * pow(2 * y1, -1, c.p)
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, c.p)
    x3 = (lam * lam - x1 - x2) % c.p
    return x3, (lam * (x1 - x3) - y1) % c.p


def _mul(c: Curve, k: int, point: _Point) -> _Point:
    result: _Point = None
    while k:
        if k & 1:
            result = _add(c, result, point)
        point = _add(c, point, point)
        k >>= 1
    return result


def recovery_id(c: Curve, digest: bytes, r: int, s: int, public: bytes) -> int:
    """Return the id (0..3) that recovers ``public`` (raw X||Y) from the signature.

    :raises ValueError: if no candidate matches (the signature is not by that key).
    """
    e = int.from_bytes(digest[:32], "big") % c.n
    target = (int.from_bytes(public[:32], "big"), int.from_bytes(public[32:], "big"))
    r_inv = pow(r, -1, c.n)
    for recid in range(4):
        x = r + (recid >> 1) * c.n
        if x >= c.p:
            continue
        y_sq = (pow(x, 3, c.p) + c.a * x + c.b) % c.p
        y = _sqrt_mod(c, y_sq)
        if y is None:
            continue
        if y & 1 != recid & 1:
            y = c.p - y
        sr = _mul(c, s, (x, y))
        eg = _mul(c, (-e) % c.n, (c.gx, c.gy))
        q = _mul(c, r_inv, _add(c, sr, eg))
        if q == target:
            return recid
    raise ValueError("signature does not recover to the key")


def _sqrt_mod(c: Curve, value: int) -> int | None:
    # both curves have p % 4 == 3
    root = pow(value, (c.p + 1) // 4, c.p)
    return root if root * root % c.p == value else None
