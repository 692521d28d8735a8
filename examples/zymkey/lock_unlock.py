#!/usr/bin/env python3
"""Lock (encrypt and sign) data and a file with the module's key, then unlock them again."""

import os
import tempfile

import zymkey

secret = b"database password: correct horse battery staple"

locked = zymkey.client.lock(secret)
print("locked %d bytes into a %d-byte blob" % (len(secret), len(locked)))
unlocked = zymkey.client.unlock(locked)
print("unlocked data matches:", unlocked == secret)

with tempfile.TemporaryDirectory() as work:
    plain = os.path.join(work, "config.txt")
    blob = os.path.join(work, "config.zym")
    restored = os.path.join(work, "config.out")
    with open(plain, "wb") as f:
        f.write(secret)
    zymkey.client.lock(plain, blob)
    zymkey.client.unlock(blob, restored)
    with open(restored, "rb") as f:
        print("unlocked file matches:", f.read() == secret)

cloud_blob = zymkey.client.lock(secret, encryption_key=zymkey.CLOUD_ENCRYPTION_KEY)
print("cloud key round trip:", zymkey.client.unlock(cloud_blob, encryption_key="cloud") == secret)

tampered = bytearray(locked)
tampered[-1] ^= 0x01
try:
    zymkey.client.unlock(tampered)
    print("tampered blob accepted")
except zymkey.exceptions.VerificationError:
    print("tampered blob rejected: VerificationError")
