"""A PKCS#11 session: its connection to the module, and its find, sign and verify operations.

Each session has its own connection, so sessions in different threads run in parallel. Every
method raises :class:`~softscm.pkcs11.errors.Pkcs11Error` with the ``CKR_*`` of a failure.
"""

from __future__ import annotations

from operator import methodcaller
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF

from ..wire.defs import FIRST_USER_SLOT, KdfType
from .attributes import Template, ulong
from .certificates import CertObject, CertRef, Certificate, slot_for_id
from .constants import CKA, CKC, CKD, CKK, CKM, CKO, CKR, CertificateCategory
from .curves import curve_for_key, curve_for_params, public_key_info, raw_point
from .errors import Pkcs11Error
from .mechanisms import SIGNATURE_SIZE, EcdhParams, Mechanism, SignatureOperation, derive_kdf, mechanism_type
from .objects import KeyObject, KeyRef, Object, ObjectKind, SecretObject

if TYPE_CHECKING:
    from .library import State

MAX_LABEL = 256
_COSTLY = (CKA.LABEL, CKA.EC_POINT, CKA.PUBLIC_KEY_INFO, CKA.VALUE, CKA.SUBJECT, CKA.ISSUER, CKA.SERIAL_NUMBER,
           CKA.CHECK_VALUE, CKA.START_DATE, CKA.END_DATE)
_KEY_COMMON = frozenset({CKA.CLASS, CKA.KEY_TYPE, CKA.TOKEN, CKA.PRIVATE, CKA.LABEL, CKA.ID, CKA.MODIFIABLE,
                         CKA.COPYABLE, CKA.DESTROYABLE, CKA.START_DATE, CKA.END_DATE, CKA.SUBJECT, CKA.DERIVE,
                         CKA.ALLOWED_MECHANISMS, CKA.EC_PARAMS})
_PUBLIC_TEMPLATE = _KEY_COMMON | {CKA.ENCRYPT, CKA.VERIFY, CKA.VERIFY_RECOVER, CKA.WRAP, CKA.TRUSTED}
_PRIVATE_TEMPLATE = _KEY_COMMON | {CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.DECRYPT, CKA.SIGN, CKA.SIGN_RECOVER,
                                   CKA.UNWRAP, CKA.ALWAYS_AUTHENTICATE, CKA.WRAP_WITH_TRUSTED}
_CREATE_TEMPLATE = _PUBLIC_TEMPLATE | {CKA.EC_POINT}
_DERIVE_TEMPLATE = frozenset({CKA.CLASS, CKA.KEY_TYPE, CKA.TOKEN, CKA.PRIVATE, CKA.LABEL, CKA.ID, CKA.VALUE_LEN,
                              CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.MODIFIABLE, CKA.COPYABLE, CKA.DESTROYABLE,
                              CKA.ENCRYPT, CKA.DECRYPT, CKA.SIGN, CKA.VERIFY, CKA.WRAP, CKA.UNWRAP, CKA.DERIVE})
_CERTIFICATE_TEMPLATE = frozenset({
    CKA.CLASS, CKA.TOKEN, CKA.PRIVATE, CKA.LABEL, CKA.ID, CKA.MODIFIABLE, CKA.COPYABLE, CKA.DESTROYABLE,
    CKA.CERTIFICATE_TYPE, CKA.TRUSTED, CKA.CERTIFICATE_CATEGORY, CKA.CHECK_VALUE, CKA.START_DATE, CKA.END_DATE,
    CKA.VALUE, CKA.SUBJECT, CKA.ISSUER, CKA.SERIAL_NUMBER, CKA.URL, CKA.HASH_OF_SUBJECT_PUBLIC_KEY,
    CKA.HASH_OF_ISSUER_PUBLIC_KEY, CKA.JAVA_MIDP_SECURITY_DOMAIN})
_AES_SIZES = (16, 24, 32)


def _label(value: bytes) -> str:
    try:
        label = value.decode()
    except UnicodeDecodeError:
        raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID) from None
    if len(value) > MAX_LABEL:
        raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID)
    return label


def _no_id(template: Template) -> None:
    """The module assigns CKA_ID (the slot); a template may leave it empty, nothing else."""
    if template.bytes(CKA.ID):
        raise Pkcs11Error(CKR.ATTRIBUTE_READ_ONLY)


class Session:
    """One open session."""

    def __init__(self, handle: int, state: State, *, rw: bool) -> None:
        self.handle = handle
        self.state = state
        self.rw = rw
        self.connection = state.token.connection()
        self._found: list[int] | None = None
        self._sign: SignatureOperation | None = None
        self._verify: SignatureOperation | None = None

    def close(self) -> None:
        self.connection.close()

    # -- objects -----------------------------------------------------------------------------

    def object(self, handle: int) -> Object:
        """The object ``handle`` names; ``CKR_OBJECT_HANDLE_INVALID`` if it names none."""
        ref = KeyRef.from_handle(handle)
        if ref is not None:
            return self._key(ref)
        cert = CertRef.from_handle(handle)
        if cert is not None:
            self.state.token.check_certificate(self.connection, cert)
            return self._certificate(cert)
        secret = self.state.secrets.get(handle)
        if secret is None:
            raise Pkcs11Error(CKR.OBJECT_HANDLE_INVALID)
        return secret

    def _key(self, ref: KeyRef) -> KeyObject:
        token = self.state.token
        return KeyObject(ref, token.curve(self.connection, ref),
                         token=self.state.is_token_object(ref), label=lambda: token.label(self.connection, ref),
                         public_key=lambda: token.public_key(self.connection, ref))

    def _certificate(self, ref: CertRef) -> CertObject:
        token = self.state.token
        return CertObject(ref, der=lambda: token.certificate(self.connection, ref),
                          label=lambda: token.certificate_label(self.connection, ref))

    def _require_rw(self, token_object: bool) -> None:
        if token_object and not self.rw:
            raise Pkcs11Error(CKR.SESSION_READ_ONLY)

    def find_init(self, template: Template) -> None:
        if self._found is not None:
            raise Pkcs11Error(CKR.OPERATION_ACTIVE)
        token = self.state.token
        certificates = template.bytes(CKA.CLASS) in (None, ulong(CKO.CERTIFICATE))
        token.refresh(self.connection, certificates=certificates)
        ordered = Template(sorted(template, key=lambda item: item[0] in _COSTLY))
        found = [ref.handle for ref in token.refs() if self._key(ref).matches(ordered)]
        if certificates:
            found += [ref.handle for ref in token.cert_refs() if self._certificate(ref).matches(ordered)]
        found += [handle for handle, secret in list(self.state.secrets.items()) if secret.matches(ordered)]
        self._found = found

    def find(self, count: int) -> list[int]:
        if self._found is None:
            raise Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED)
        batch, self._found[:count] = self._found[:count], []
        return batch

    def find_final(self) -> None:
        if self._found is None:
            raise Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED)
        self._found = None

    def get_attributes(self, handle: int, kinds: list[int]) -> list[bytes | CKR]:
        """Each attribute's value, or the ``CKR_*`` that says why it has none."""
        obj = self.object(handle)
        values: list[bytes | CKR] = []
        for kind in kinds:
            try:
                values.append(obj.get(kind))
            except Pkcs11Error as exc:
                if exc.rv not in (CKR.ATTRIBUTE_TYPE_INVALID, CKR.ATTRIBUTE_SENSITIVE):
                    raise
                values.append(exc.rv)
        return values

    def set_attributes(self, handle: int, template: Template) -> None:
        """Only CKA_LABEL changes on a module key (kept on the host); CKA_LABEL and CKA_ID on a
        derived secret key. Setting another attribute to the value it has is accepted."""
        obj = self.object(handle)
        settable = (CKA.LABEL, CKA.ID) if isinstance(obj, SecretObject) else (CKA.LABEL,)
        for kind, value in template:
            if kind in settable:
                continue
            try:
                current = obj.get(kind)
            except Pkcs11Error as exc:
                raise Pkcs11Error(CKR.ATTRIBUTE_READ_ONLY if exc.rv is CKR.ATTRIBUTE_SENSITIVE else exc.rv) from None
            if current != value:
                raise Pkcs11Error(CKR.ATTRIBUTE_READ_ONLY)
        label, key_id = template.bytes(CKA.LABEL), template.bytes(CKA.ID)
        if isinstance(obj, SecretObject):
            obj.label = obj.label if label is None else label
            obj.id = obj.id if key_id is None else key_id
        elif label is not None and isinstance(obj, KeyObject):
            self._require_rw(self.state.is_token_object(obj.ref))
            self.state.token.set_label(self.connection, obj.ref, _label(label))
        elif label is not None and isinstance(obj, CertObject):
            self._require_rw(True)
            self.state.token.set_label(self.connection, KeyRef(ObjectKind.PRIVATE_KEY, obj.ref.slot), _label(label),
                                       entry=obj.ref.label_key)

    def destroy(self, handle: int) -> None:
        obj = self.object(handle)
        if isinstance(obj, CertObject):
            cert = obj.ref
            self._require_rw(True)
            self.connection.run(methodcaller("remove_certificate_chain", cert.slot))
            self.state.token.forget_certificate(cert)
            return
        if not isinstance(obj, KeyObject):
            self.state.secrets.pop(handle, None)  # a derived secret key
            return
        ref = obj.ref
        self._require_rw(self.state.is_token_object(ref))
        if not ref.foreign and ref.slot < FIRST_USER_SLOT:
            raise Pkcs11Error(CKR.ACTION_PROHIBITED)
        self.connection.run(lambda client: client.remove_key(ref.slot, foreign=ref.foreign))
        self.state.token.forget(ref)
        self.state.session_keys.pop((ref.foreign, ref.slot), None)

    def _own(self, ref: KeyRef, token_object: bool) -> None:
        if not token_object:
            self.state.session_keys[(ref.foreign, ref.slot)] = self.handle

    def generate_key_pair(self, mechanism: Mechanism, public: Template, private: Template) -> tuple[int, int]:
        """Generate a key pair on the module; returns the public and private key handles.

        CKA_TOKEN false makes a session key pair: still made on the module, removed when this
        session closes. Usage attributes (CKA_SIGN, CKA_DERIVE, ...) are accepted as given, but
        a key can do what its curve does: the objects report that (tools ask for CKA_DERIVE on
        Ed25519 keys, for one). A private key is always sensitive, never extractable.
        """
        kind = mechanism_type(mechanism.type)
        if kind not in (CKM.EC_KEY_PAIR_GEN, CKM.EC_EDWARDS_KEY_PAIR_GEN, CKM.EC_MONTGOMERY_KEY_PAIR_GEN):
            raise Pkcs11Error(CKR.MECHANISM_INVALID)
        if mechanism.parameter is not None:
            raise Pkcs11Error(CKR.MECHANISM_PARAM_INVALID)
        public.check_known(_PUBLIC_TEMPLATE)
        private.check_known(_PRIVATE_TEMPLATE)
        params = public.bytes(CKA.EC_PARAMS) or private.bytes(CKA.EC_PARAMS)
        curve = curve_for_params(kind, params)
        for template, cls in ((public, CKO.PUBLIC_KEY), (private, CKO.PRIVATE_KEY)):
            template.expect(CKA.CLASS, cls)
            template.expect(CKA.KEY_TYPE, curve.ckk)
            _no_id(template)
        if private.bytes(CKA.EC_PARAMS) not in (None, params):
            raise Pkcs11Error(CKR.TEMPLATE_INCONSISTENT)
        if not private.bool(CKA.SENSITIVE, True) or private.bool(CKA.EXTRACTABLE, False) \
                or private.bool(CKA.ALWAYS_AUTHENTICATE, False) or not private.bool(CKA.DESTROYABLE, True) \
                or not public.bool(CKA.DESTROYABLE, True):
            raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID)
        token_object = public.bool(CKA.TOKEN, False)
        if private.bool(CKA.TOKEN, token_object) != token_object:
            raise Pkcs11Error(CKR.TEMPLATE_INCONSISTENT)
        self._require_rw(token_object)
        self.state.token.shows(curve.key_type)
        slot = self.connection.run(lambda client: client.gen_key_pair(curve.key_type))
        private_ref, public_ref = KeyRef(ObjectKind.PRIVATE_KEY, slot), KeyRef(ObjectKind.PUBLIC_KEY, slot)
        self.state.token.remember(private_ref, curve.key_type)
        self._own(private_ref, token_object)
        label = private.bytes(CKA.LABEL) or public.bytes(CKA.LABEL)
        if label:
            self.state.token.set_label(self.connection, private_ref, _label(label))
        return public_ref.handle, private_ref.handle

    def create_object(self, template: Template) -> int:
        """Store a public key (CKO_PUBLIC_KEY, CKA_EC_PARAMS, CKA_EC_POINT) as a foreign key, or a
        certificate (see :meth:`create_certificate`)."""
        kind = template.ulong(CKA.CLASS)
        if kind == CKO.CERTIFICATE:
            return self.create_certificate(template)
        if kind != CKO.PUBLIC_KEY:
            raise Pkcs11Error(CKR.TEMPLATE_INCONSISTENT if CKA.CLASS not in template else CKR.ATTRIBUTE_VALUE_INVALID)
        template.check_known(_CREATE_TEMPLATE)
        ckk, params, point = template.ulong(CKA.KEY_TYPE), template.bytes(CKA.EC_PARAMS), template.bytes(CKA.EC_POINT)
        if ckk is None or params is None or point is None:
            raise Pkcs11Error(CKR.TEMPLATE_INCOMPLETE)
        curve = curve_for_key(ckk, params)
        _no_id(template)
        raw = raw_point(curve.key_type, point)
        token_object = template.bool(CKA.TOKEN, False)
        self._require_rw(token_object)
        self.state.token.shows(curve.key_type)
        slot = self.connection.run(lambda client: client.store_foreign_public_key(curve.key_type, raw))
        ref = KeyRef(ObjectKind.FOREIGN_KEY, slot)
        self.state.token.remember(ref, curve.key_type, raw)
        self._own(ref, token_object)
        label = template.bytes(CKA.LABEL)
        if label:
            self.state.token.set_label(self.connection, ref, _label(label))
        return ref.handle

    def create_certificate(self, template: Template) -> int:
        """Store an X.509 certificate (CKA_VALUE, DER) as the chain of the key it certifies
        (CERT_STORE), replacing the chain stored for that key. The key is the one CKA_ID names,
        or without CKA_ID the key pair on the token with the certificate's public key.
        Certificates are token objects, public, not trusted (CKA_TRUSTED is an SO matter).

        :raises Pkcs11Error: ``CKR_TEMPLATE_INCOMPLETE`` without CKA_CERTIFICATE_TYPE or
            CKA_VALUE, or without CKA_ID when no key has the certificate's public key;
            ``CKR_ATTRIBUTE_VALUE_INVALID`` for a value that is not a certificate, a CKA_ID naming
            no key pair, CKA_TOKEN false, CKA_PRIVATE or CKA_TRUSTED true, another certificate type
            or category; ``CKR_TEMPLATE_INCONSISTENT`` if the certificate is not for the key
            CKA_ID names or disagrees with a CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER or
            CKA_CHECK_VALUE given; the module's refusal (an administrator command).
        """
        template.check_known(_CERTIFICATE_TEMPLATE)
        kind, der = template.ulong(CKA.CERTIFICATE_TYPE), template.bytes(CKA.VALUE)
        if kind is None or der is None:
            raise Pkcs11Error(CKR.TEMPLATE_INCOMPLETE)
        category = template.ulong(CKA.CERTIFICATE_CATEGORY)
        if kind != CKC.X_509 or not template.bool(CKA.TOKEN, False) or template.bool(CKA.PRIVATE, False) \
                or template.bool(CKA.TRUSTED, False) or not template.bool(CKA.DESTROYABLE, True) \
                or category not in (None, CertificateCategory.UNSPECIFIED, CertificateCategory.TOKEN_USER):
            raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID)
        certificate = Certificate(der)
        for attribute, value in certificate.derived.items():
            if template.bytes(CKA(attribute)) not in (None, value) and attribute not in (CKA.START_DATE, CKA.END_DATE):
                raise Pkcs11Error(CKR.TEMPLATE_INCONSISTENT)
        self._require_rw(True)
        token = self.state.token
        token.refresh(self.connection)
        key_id = template.bytes(CKA.ID)
        slot = self._certified_slot(certificate, key_id)
        self.connection.run(methodcaller("store_certificate_chain", slot, [der]))
        ref = CertRef(slot)
        token.remember_certificate(ref, der)
        label = template.bytes(CKA.LABEL)
        if label:
            token.set_label(self.connection, KeyRef(ObjectKind.PRIVATE_KEY, slot), _label(label), entry=ref.label_key)
        return ref.handle

    def _certified_slot(self, certificate: Certificate, key_id: bytes | None) -> int:
        """The key-pair slot ``certificate`` is for: the one ``key_id`` names (which must hold the
        certified key), else the first whose public key it certifies."""
        token = self.state.token
        spki = certificate.public_key_info()

        def certifies(slot: int) -> bool:
            ref = KeyRef(ObjectKind.PRIVATE_KEY, slot)
            try:
                public = token.public_key(self.connection, ref)
            except Pkcs11Error:
                return False
            return spki == public_key_info(token.curve(self.connection, ref).key_type, public)

        if key_id:
            slot = slot_for_id(key_id)
            if slot is None or slot not in token.key_pair_slots():
                raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID)
            if not certifies(slot):
                raise Pkcs11Error(CKR.TEMPLATE_INCONSISTENT)
            return slot
        for slot in token.key_pair_slots():
            if certifies(slot):
                return slot
        raise Pkcs11Error(CKR.TEMPLATE_INCOMPLETE)

    # -- sign and verify ----------------------------------------------------------------------

    def sign_init(self, mechanism: Mechanism, handle: int) -> None:
        if self._sign is not None:
            raise Pkcs11Error(CKR.OPERATION_ACTIVE)
        ref = KeyRef.from_handle(handle)
        if ref is None:
            raise Pkcs11Error(CKR.KEY_HANDLE_INVALID if handle not in self.state.secrets
                              else CKR.KEY_TYPE_INCONSISTENT)
        curve = self.state.token.curve(self.connection, ref, invalid=CKR.KEY_HANDLE_INVALID)
        if ref.kind is not ObjectKind.PRIVATE_KEY or not curve.can_sign:
            mechanism_type(mechanism.type)  # an unknown mechanism is reported first
            raise Pkcs11Error(CKR.KEY_FUNCTION_NOT_PERMITTED)
        self._sign = SignatureOperation(mechanism, curve, ref.slot)

    def sign_operation(self) -> SignatureOperation:
        if self._sign is None:
            raise Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED)
        return self._sign

    @staticmethod
    def signature_length() -> int:
        return SIGNATURE_SIZE

    def sign(self, data: bytes | None) -> bytes:
        """Sign ``data`` (single part) or what the updates gathered (``None``); ends the operation."""
        op = self.sign_operation()
        self._sign = None
        message = op.module_input(data)
        return self.connection.run(lambda client: client.sign(op.slot, message)).raw

    def sign_update(self, part: bytes) -> None:
        try:
            self.sign_operation().update(part)
        except Pkcs11Error:
            self._sign = None
            raise

    def end_sign(self) -> None:
        self._sign = None

    def verify_init(self, mechanism: Mechanism, handle: int) -> None:
        if self._verify is not None:
            raise Pkcs11Error(CKR.OPERATION_ACTIVE)
        ref = KeyRef.from_handle(handle)
        if ref is None:
            raise Pkcs11Error(CKR.KEY_HANDLE_INVALID if handle not in self.state.secrets
                              else CKR.KEY_TYPE_INCONSISTENT)
        curve = self.state.token.curve(self.connection, ref, invalid=CKR.KEY_HANDLE_INVALID)
        if ref.kind is ObjectKind.PRIVATE_KEY or not curve.can_sign:
            mechanism_type(mechanism.type)  # an unknown mechanism is reported first
            raise Pkcs11Error(CKR.KEY_FUNCTION_NOT_PERMITTED)
        self._verify = SignatureOperation(mechanism, curve, ref.slot, foreign=ref.foreign)

    def verify(self, data: bytes | None, signature: bytes) -> None:
        """Verify ``signature`` over ``data`` (or the updates); ends the operation.

        :raises Pkcs11Error: ``CKR_SIGNATURE_INVALID``, or ``CKR_SIGNATURE_LEN_RANGE`` for a
            signature of the wrong size.
        """
        if self._verify is None:
            raise Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED)
        op, self._verify = self._verify, None
        message = op.module_input(data)
        if len(signature) != SIGNATURE_SIZE:
            raise Pkcs11Error(CKR.SIGNATURE_LEN_RANGE)
        self.connection.run(lambda client: client.verify(op.slot, message, signature, foreign=op.foreign))

    def end_verify(self) -> None:
        self._verify = None

    def verify_update(self, part: bytes) -> None:
        if self._verify is None:
            raise Pkcs11Error(CKR.OPERATION_NOT_INITIALIZED)
        try:
            self._verify.update(part)
        except Pkcs11Error:
            self._verify = None
            raise

    # -- derive and random -------------------------------------------------------------------------

    def derive(self, mechanism: Mechanism, handle: int, template: Template) -> int:
        """ECDH with the base key and the peer's public data, then CKD_NULL (the shared secret,
        cut to CKA_VALUE_LEN from the left) or CKD_SHA256_KDF (ANSI X9.63 with SHA-256, on the
        host); the result is a session secret key object."""
        if mechanism_type(mechanism.type) is not CKM.ECDH1_DERIVE:
            raise Pkcs11Error(CKR.MECHANISM_INVALID)
        params = mechanism.parameter
        if not isinstance(params, EcdhParams):
            raise Pkcs11Error(CKR.MECHANISM_PARAM_INVALID)
        kdf = derive_kdf(params)
        ref = KeyRef.from_handle(handle)
        if ref is None:
            raise Pkcs11Error(CKR.KEY_HANDLE_INVALID if handle not in self.state.secrets
                              else CKR.KEY_TYPE_INCONSISTENT)
        curve = self.state.token.curve(self.connection, ref, invalid=CKR.KEY_HANDLE_INVALID)
        if ref.kind is not ObjectKind.PRIVATE_KEY or not curve.can_derive:
            raise Pkcs11Error(CKR.KEY_FUNCTION_NOT_PERMITTED)
        template.check_known(_DERIVE_TEMPLATE)
        template.expect(CKA.CLASS, CKO.SECRET_KEY)
        if template.bool(CKA.TOKEN, False):
            raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID)
        key_type = template.ulong(CKA.KEY_TYPE)
        if key_type is None:
            key_type = CKK.GENERIC_SECRET
        if key_type not in (CKK.GENERIC_SECRET, CKK.AES):
            raise Pkcs11Error(CKR.TEMPLATE_INCONSISTENT)
        length = template.ulong(CKA.VALUE_LEN)
        try:
            peer = raw_point(curve.key_type, params.public_data)
        except Pkcs11Error:
            raise Pkcs11Error(CKR.MECHANISM_PARAM_INVALID) from None
        secret = self.connection.run(lambda client: client.ecdh(ref.slot, peer, kdf=KdfType.NONE))
        if length is None:
            if key_type == CKK.AES:
                raise Pkcs11Error(CKR.TEMPLATE_INCOMPLETE)
            length = len(secret)
        if length < 1 or (key_type == CKK.AES and length not in _AES_SIZES):
            raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID)
        if kdf is CKD.NULL:
            if length > len(secret):
                raise Pkcs11Error(CKR.TEMPLATE_INCONSISTENT)
            value = secret[:length]
        else:
            value = X963KDF(hashes.SHA256(), length, params.shared_data or None).derive(secret)
        sensitive = template.bool(CKA.SENSITIVE, False)
        extractable = template.bool(CKA.EXTRACTABLE, True)
        return self.state.add_secret(lambda h: SecretObject(
            h, self.handle, value, CKK(key_type), sensitive, extractable, template.bytes(CKA.LABEL) or b"",
            template.bytes(CKA.ID) or b""))

    def random(self, size: int) -> bytes:
        chunk = 1024 * 1024
        parts = []
        for offset in range(0, size, chunk):
            count = min(chunk, size - offset)
            parts.append(self.connection.run(methodcaller("get_random", count)))
        return b"".join(parts)

