"""The PKCS#11 login's pure parts: PIN checks, what a refusal means, certificate handles and IDs."""

from __future__ import annotations

import pytest

from softscm.pkcs11.access import Login, login_pin, new_pin, refusal
from softscm.pkcs11.certificates import CertRef, slot_for_id
from softscm.pkcs11.constants import CKR, CKU
from softscm.pkcs11.errors import Pkcs11Error
from softscm.pkcs11.objects import KeyRef, ObjectKind, slot_id
from softscm.wire.defs import Role
from softscm.wire.messages.access import Identity


@pytest.mark.parametrize("role, pin_set, logged_in, rv", [
    (Role.ADMIN, True, False, CKR.USER_NOT_LOGGED_IN),  # a PIN login would lift it
    (Role.ADMIN, True, True, CKR.FUNCTION_REJECTED),
    (Role.ADMIN, False, False, CKR.FUNCTION_REJECTED),
    (Role.USER, True, False, CKR.FUNCTION_REJECTED),  # a user's role: no PIN helps
    (Role.NONE, True, False, CKR.FUNCTION_REJECTED),
])
def test_a_refusal_is_not_logged_in_only_when_a_login_would_help(role, pin_set, logged_in, rv):
    assert refusal(Identity("uid:1000", role, logged_in, pin_set)) is rv
    assert refusal(None) is CKR.FUNCTION_REJECTED


def test_pins_to_log_in_with_and_to_set():
    assert login_pin("pïn".encode()) == "pïn"
    for bad in (b"\xff\xfe", b"x" * 129):
        with pytest.raises(Pkcs11Error) as caught:
            login_pin(bad)
        assert caught.value.rv is CKR.PIN_INCORRECT
    assert new_pin(b"123456") == "123456"
    for bad, rv in ((b"12345", CKR.PIN_LEN_RANGE), (b"x" * 129, CKR.PIN_LEN_RANGE), (b"\xff" * 8, CKR.PIN_INVALID)):
        with pytest.raises(Pkcs11Error) as caught:
            new_pin(bad)
        assert caught.value.rv is rv


def test_a_login_state_is_replaced_whole_and_never_shows_its_pin():
    login = Login()
    state = login.start(CKU.SO, "secret pin")
    assert login.user is CKU.SO and login.state is state
    assert "secret pin" not in repr(state)
    login.drop(Login().state)  # another state: nothing happens
    assert login.state is state
    login.drop(state)
    assert login.user is None and login.state.pin is None


@pytest.mark.parametrize("slot", [0, 16, 255, 4096])
def test_certificate_handles_and_ids(slot):
    ref = CertRef(slot)
    assert CertRef.from_handle(ref.handle) == ref and KeyRef.from_handle(ref.handle) is None
    assert ref.handle not in {KeyRef(kind, slot).handle for kind in ObjectKind}
    assert CertRef.from_handle(KeyRef(ObjectKind.PRIVATE_KEY, slot).handle) is None
    assert ref.id == slot_id(slot) and slot_for_id(ref.id) == slot


def test_ids_that_name_no_key_pair():
    assert slot_for_id(b"") is None
    assert slot_for_id(b"\x00\x10") is None  # not as the token writes slot 16
