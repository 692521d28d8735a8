"""python-pkcs11 logging in to libsoftscm-pkcs11.so, in a process of its own (python-pkcs11 loads one
library per process, and the other tests' copy talks to another scmd).

    python pkcs11_login.py LIBRARY PIN SLOT...

Destroys the key pairs in the given slots one by one, in sessions opened before, at and after a
C_Login(CKU_SO) with PIN, then after C_Logout; prints what each step returned, as JSON.
"""

from __future__ import annotations

import json
import sys

import pkcs11
from pkcs11 import Attribute, ObjectClass
from pkcs11.exceptions import PKCS11Error


def main() -> None:
    library, pin, *slots = sys.argv[1:]
    ids = [int(slot).to_bytes(1, "big") for slot in slots]
    token = pkcs11.lib(library).get_token(token_label="softscm-SCM")
    results: dict[str, object] = {}

    def destroy(name: str, session: pkcs11.Session, key_id: bytes) -> None:
        try:
            session.get_key(ObjectClass.PRIVATE_KEY, id=key_id).destroy()
            results[name] = "ok"
        except PKCS11Error as exc:
            results[name] = type(exc).__name__

    before = token.open(rw=True)
    destroy("before_login", before, ids[0])
    try:
        token.open(rw=True, so_pin="not the pin")
    except PKCS11Error as exc:
        results["wrong_pin"] = type(exc).__name__
    admin = token.open(rw=True, so_pin=pin)  # C_Login(CKU_SO): the application's login
    results["logged_in_as"] = str(admin.user_type)
    destroy("opened_before", before, ids[0])
    destroy("logging_in", admin, ids[1])
    later = token.open(rw=True)
    destroy("opened_after", later, ids[2])
    admin.close()  # C_Logout, then C_CloseSession
    destroy("after_logout", later, ids[3])
    results["label_after_logout"] = later.get_key(ObjectClass.PRIVATE_KEY, id=ids[3])[Attribute.LABEL]
    later.close()
    before.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
