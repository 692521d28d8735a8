"""The PKCS#11 mapping's pure parts: curve parameters, point encodings, digests, handles, templates."""

from __future__ import annotations

import hashlib
import os
import struct

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from pkcs11 import Attribute
from pkcs11.util.ec import decode_ec_public_key, encode_named_curve_parameters

from softscm.pkcs11.attributes import Template, ulong, ulong_array
from softscm.pkcs11.constants import CKA, CKK, CKM, CKR
from softscm.pkcs11.curves import CURVES, curve_for_key, curve_for_params, ec_point, public_key_info, raw_point
from softscm.pkcs11.errors import Pkcs11Error, rv_for
from softscm.pkcs11.mechanisms import Mechanism, SignatureOperation, fit_digest
from softscm.pkcs11.objects import SESSION_HANDLE_BASE, KeyRef, ObjectKind, slot_id
from softscm.wire.defs import ErrorCode, KeyType
from softscm.wire.errors import error_for_code

# the named-curve OIDs, as python-pkcs11 (asn1crypto) encodes them
OIDS = {KeyType.NISTP256: "secp256r1", KeyType.SECP256K1: "secp256k1", KeyType.ED25519: "1.3.101.112",
        KeyType.X25519: "1.3.101.110"}


@pytest.mark.parametrize("key_type", list(KeyType), ids=lambda k: k.label)
def test_ec_params_are_the_der_named_curve_oid(key_type):
    assert CURVES[key_type].ec_params == encode_named_curve_parameters(OIDS[key_type])


@pytest.mark.parametrize("generation, params, expected", [
    (CKM.EC_KEY_PAIR_GEN, encode_named_curve_parameters("secp256r1"), KeyType.NISTP256),
    (CKM.EC_KEY_PAIR_GEN, encode_named_curve_parameters("secp256k1"), KeyType.SECP256K1),
    (CKM.EC_EDWARDS_KEY_PAIR_GEN, b"\x13\x0cedwards25519", KeyType.ED25519),
    (CKM.EC_EDWARDS_KEY_PAIR_GEN, encode_named_curve_parameters("1.3.6.1.4.1.11591.15.1"), KeyType.ED25519),
    (CKM.EC_EDWARDS_KEY_PAIR_GEN, None, KeyType.ED25519),
    (CKM.EC_MONTGOMERY_KEY_PAIR_GEN, b"\x13\x0bcurve25519", KeyType.X25519),  # OpenSC 0.23's length byte
    (CKM.EC_MONTGOMERY_KEY_PAIR_GEN, encode_named_curve_parameters("1.3.101.110"), KeyType.X25519),
])
def test_generation_parameters_name_a_curve(generation, params, expected):
    assert curve_for_params(generation, params).key_type is expected


@pytest.mark.parametrize("generation, params, rv", [
    (CKM.EC_KEY_PAIR_GEN, encode_named_curve_parameters("secp384r1"), CKR.CURVE_NOT_SUPPORTED),
    (CKM.EC_KEY_PAIR_GEN, encode_named_curve_parameters("1.3.101.112"), CKR.CURVE_NOT_SUPPORTED),
    (CKM.EC_KEY_PAIR_GEN, None, CKR.TEMPLATE_INCOMPLETE),
])
def test_generation_refuses_other_curves(generation, params, rv):
    with pytest.raises(Pkcs11Error) as caught:
        curve_for_params(generation, params)
    assert caught.value.rv is rv


def test_ec_point_and_public_key_info_match_cryptography():
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    uncompressed = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert ec_point(KeyType.NISTP256, uncompressed[1:]) == decode_ec_public_key(spki)[Attribute.EC_POINT]
    spki = public_key_info(KeyType.NISTP256, uncompressed[1:])
    assert serialization.load_der_public_key(spki) == key
    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = ed.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert ec_point(KeyType.ED25519, raw) == b"\x04\x20" + raw
    assert serialization.load_der_public_key(public_key_info(KeyType.ED25519, raw)) == ed


def test_raw_point_takes_bare_wrapped_and_compressed_points():
    key = ec.generate_private_key(ec.SECP256K1()).public_key()
    raw = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    compressed = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    for given in (raw, b"\x04\x41" + raw, compressed, b"\x04\x21" + compressed):
        assert raw_point(KeyType.SECP256K1, given) == raw[1:]
    for bad in (raw[:-1], b"\x04\x41" + raw[:-1], b"\x04" + bytes(64)):
        with pytest.raises(Pkcs11Error) as caught:
            raw_point(KeyType.SECP256K1, bad)
        assert caught.value.rv is CKR.ATTRIBUTE_VALUE_INVALID
    assert curve_for_key(CKK.EC, encode_named_curve_parameters("secp256k1")).key_type is KeyType.SECP256K1


@pytest.mark.parametrize("digest", [b"", b"\x01", os.urandom(20), os.urandom(32), os.urandom(48), os.urandom(64)],
                         ids=lambda d: f"{len(d)}B")
def test_ecdsa_digests_follow_the_leftmost_bits_rule(digest):
    fitted = fit_digest(digest)
    assert len(fitted) == 32
    # ECDSA's e: the leftmost min(256, 8 * len) bits of the hash as an integer
    bits = min(256, 8 * len(digest))
    expected = int.from_bytes(digest, "big") >> (8 * len(digest) - bits) if digest else 0
    assert int.from_bytes(fitted, "big") == expected


def test_hashing_mechanisms_hash_then_fit_and_multipart_equals_single_part():
    curve = CURVES[KeyType.NISTP256]
    single = SignatureOperation(Mechanism(CKM.ECDSA_SHA384), curve, 16).module_input(b"hello world")
    assert single == hashlib.sha384(b"hello world").digest()[:32]
    multi = SignatureOperation(Mechanism(CKM.ECDSA_SHA384), curve, 16)
    multi.update(b"hello ")
    multi.update(b"world")
    assert multi.module_input() == single
    ed = SignatureOperation(Mechanism(CKM.EDDSA), CURVES[KeyType.ED25519], 17)
    ed.update(b"a" * 40)
    assert ed.module_input() == b"a" * 40


@pytest.mark.parametrize("mechanism, key_type, rv", [
    (Mechanism(CKM.EDDSA), KeyType.NISTP256, CKR.KEY_TYPE_INCONSISTENT),
    (Mechanism(CKM.ECDSA), KeyType.ED25519, CKR.KEY_TYPE_INCONSISTENT),
    (Mechanism(CKM.ECDSA), KeyType.X25519, CKR.KEY_TYPE_INCONSISTENT),
    (Mechanism(CKM.ECDH1_DERIVE), KeyType.NISTP256, CKR.MECHANISM_INVALID),
    (Mechanism(0x8000_0001), KeyType.NISTP256, CKR.MECHANISM_INVALID),
    (Mechanism(CKM.ECDSA, b"\x00"), KeyType.NISTP256, CKR.MECHANISM_PARAM_INVALID),
])
def test_sign_operations_check_mechanism_and_key(mechanism, key_type, rv):
    with pytest.raises(Pkcs11Error) as caught:
        SignatureOperation(mechanism, CURVES[key_type], 16)
    assert caught.value.rv is rv


@pytest.mark.parametrize("kind", list(ObjectKind))
@pytest.mark.parametrize("slot", [0, 15, 16, 511, 1_000_000])
def test_handles_name_their_slot_and_kind(kind, slot):
    ref = KeyRef(kind, slot)
    assert 0 < ref.handle < SESSION_HANDLE_BASE
    assert KeyRef.from_handle(ref.handle) == ref


def test_handles_that_name_nothing():
    assert KeyRef.from_handle(0) is None
    assert KeyRef.from_handle(4) is None  # kind 3
    assert KeyRef.from_handle(SESSION_HANDLE_BASE) is None


def test_cka_id_is_the_slot_big_endian():
    assert slot_id(0) == b"\x00" and slot_id(16) == b"\x10" and slot_id(300) == b"\x01\x2c"
    assert KeyRef(ObjectKind.FOREIGN_KEY, 3).id == b"F\x03"


def test_templates_read_typed_values_and_refuse_bad_sizes():
    template = Template([(CKA.TOKEN, b"\x01"), (CKA.CLASS, ulong(3)), (CKA.LABEL, b"k")])
    assert template.bool(CKA.TOKEN, False) and not template.bool(CKA.SIGN, False)
    assert template.ulong(CKA.CLASS) == 3 and template.ulong(CKA.KEY_TYPE) is None
    assert ulong_array([1, 2]) == struct.pack("@LL", 1, 2)
    for bad in (Template([(CKA.TOKEN, b"\x01\x00")]), Template([(CKA.CLASS, b"\x03")])):
        with pytest.raises(Pkcs11Error) as caught:
            bad.bool(CKA.TOKEN, False) if CKA.TOKEN in bad else bad.ulong(CKA.CLASS)
        assert caught.value.rv is CKR.ATTRIBUTE_VALUE_INVALID
    with pytest.raises(Pkcs11Error) as caught:
        Template([(CKA.LABEL, b"a"), (CKA.LABEL, b"b")])
    assert caught.value.rv is CKR.TEMPLATE_INCONSISTENT
    with pytest.raises(Pkcs11Error) as caught:
        template.check_known(frozenset({CKA.TOKEN, CKA.CLASS}))
    assert caught.value.rv is CKR.ATTRIBUTE_TYPE_INVALID


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
def test_every_module_error_has_a_return_value(code):
    rv = rv_for(error_for_code(code, "x"))
    assert rv in CKR and rv is not CKR.OK


def test_module_errors_that_pkcs11_names():
    expected = {ErrorCode.SLOT_EMPTY: CKR.OBJECT_HANDLE_INVALID, ErrorCode.INVALID_SIGNATURE: CKR.SIGNATURE_INVALID,
                ErrorCode.EXPORT_DISABLED: CKR.ATTRIBUTE_SENSITIVE, ErrorCode.NO_FREE_SLOT: CKR.DEVICE_MEMORY,
                ErrorCode.KEY_TYPE_MISMATCH: CKR.KEY_TYPE_INCONSISTENT, ErrorCode.TRANSPORT: CKR.DEVICE_REMOVED,
                ErrorCode.ACCESS_DENIED: CKR.FUNCTION_REJECTED, ErrorCode.PIN_LOCKED: CKR.PIN_LOCKED,
                ErrorCode.MODULE_STATE: CKR.DEVICE_ERROR}
    assert {code: rv_for(error_for_code(code, "x")) for code in expected} == expected
