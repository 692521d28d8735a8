"""Short-Weierstrass curve constants, and the P-256 recovery id computed from the signer's side.

OpenSSL signs P-256 but does not return the recovery id. The signer knows its scalar ``d``, so it
recovers the nonce from its own signature, ``k = s^-1 (z + r d) mod n``, and lets OpenSSL compute
``R = k G`` (a fixed-base multiplication, about the cost of the signature itself): the id is the
parity of ``R.y`` plus 2 when ``R.x`` was reduced mod n. No point arithmetic runs in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from ...wire.errors import InternalError


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


def p256_recovery_id(scalar: int, digest: bytes, r: int, s: int) -> int:
    """The recovery id (0..3) of the P-256 signature ``(r, s)`` over the 32-byte ``digest`` made
    with the private scalar ``scalar`` (high S is kept as signed: the id matches ``s`` as is).

    :raises InternalError: if ``(r, s)`` was not made with ``scalar`` (never for its own signature).
    """
    n = P256.n
    z = int.from_bytes(digest, "big")  # a 32-byte digest is exactly n's bit length: no truncation
    nonce = pow(s, -1, n) * (z + r * scalar) % n
    point = ec.derive_private_key(nonce, ec.SECP256R1()).public_key().public_numbers()
    if point.x % n != r:
        raise InternalError("a P-256 signature does not match its signing key")
    return (point.y & 1) | (2 if point.x >= n else 0)
