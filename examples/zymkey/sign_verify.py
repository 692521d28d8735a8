#!/usr/bin/env python3
"""Sign a message with a key slot and verify it twice: in the module, and with an independent
verifier (pyca/cryptography) on the raw public key."""

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

import zymkey

message = "Firmware image 1.4.2, build 7731"
slot = zymkey.client.gen_key_pair("nistp256")
print("new key pair in slot", slot)

signature = zymkey.client.sign(message, slot=slot)
print("signature (r||s, %d bytes): %s" % (len(signature), signature.hex()))
print("module verify:", zymkey.client.verify(message, signature, pubkey_slot=slot))

public_key = zymkey.client.get_public_key(slot)  # raw X || Y
verifier = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + bytes(public_key))
der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
digest = hashlib.sha256(message.encode("utf-8")).digest()
try:
    verifier.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    print("independent verify (cryptography): OK")
except InvalidSignature:
    print("independent verify (cryptography): FAILED")

print("module verify of another message:",
      zymkey.client.verify(message + "!", signature, raise_exception=False, pubkey_slot=slot))
zymkey.client.remove_key(slot)
