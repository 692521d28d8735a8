"""Load a certificate by PKCS#11 URI through OpenSSL's pkcs11 engine (libp11), as curl, stunnel
or wpa_supplicant do: ENGINE_ctrl_cmd(engine, "LOAD_CERT_CTRL", ...). Run in a process of its own
with OPENSSL_CONF naming the engine and the module (libcrypto through ctypes: no headers needed).

    python pkcs11_engine_cert.py URI    # writes the certificate's DER to stdout
"""

from __future__ import annotations

import ctypes
import sys

OPENSSL_INIT_LOAD_CONFIG = 0x40


class CertParams(ctypes.Structure):
    """libp11's LOAD_CERT_CTRL argument."""

    _fields_ = [("cert_id", ctypes.c_char_p), ("cert", ctypes.c_void_p)]


def main() -> None:
    crypto = ctypes.CDLL("libcrypto.so.3")
    crypto.ENGINE_by_id.restype = ctypes.c_void_p
    crypto.ENGINE_by_id.argtypes = [ctypes.c_char_p]
    crypto.ENGINE_init.argtypes = [ctypes.c_void_p]
    crypto.ENGINE_ctrl_cmd.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_long, ctypes.c_void_p,
                                       ctypes.c_void_p, ctypes.c_int]
    crypto.i2d_X509.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    crypto.ENGINE_finish.argtypes = [ctypes.c_void_p]
    if crypto.OPENSSL_init_crypto(ctypes.c_uint64(OPENSSL_INIT_LOAD_CONFIG), None) != 1:
        sys.exit("OPENSSL_init_crypto failed")
    engine = crypto.ENGINE_by_id(b"pkcs11")
    if not engine or crypto.ENGINE_init(engine) != 1:
        sys.exit("no pkcs11 engine")
    params = CertParams(sys.argv[1].encode(), None)
    if crypto.ENGINE_ctrl_cmd(engine, b"LOAD_CERT_CTRL", 0, ctypes.byref(params), None, 1) != 1 or not params.cert:
        sys.exit("LOAD_CERT_CTRL failed")
    size = crypto.i2d_X509(params.cert, None)
    buffer = ctypes.create_string_buffer(size)
    cursor = ctypes.c_void_p(ctypes.addressof(buffer))
    crypto.i2d_X509(params.cert, ctypes.byref(cursor))
    crypto.ENGINE_finish(engine)
    sys.stdout.buffer.write(buffer.raw)


if __name__ == "__main__":
    main()
