"""The LUKS records parsed without cryptsetup: the softscm token, LUKS2 JSON metadata, progress
lines, the volume key dump and the escrow record."""

from __future__ import annotations

import json
import uuid

import pyrage
import pytest

from softscm.host.luks.cryptsetup import LuksMetadata, ReencryptProgress, _parse_volume_key_dump
from softscm.host.luks.escrow import (EscrowRecord, open_volume_key, parse_identities, parse_recipient,
                                      seal_volume_key)
from softscm.host.luks.token import EnrolState, SoftscmToken
from softscm.wire.errors import AuthenticationError, InvalidKeyError, LuksError

TOKEN = SoftscmToken(blob=b"\x01locked blob", serial="9F5C4DC284BE5CFB", keyslot=1, state=EnrolState.ADDING,
                     default_keyslots=(0,))

# Trimmed from `cryptsetup luksDump --dump-json-metadata` of a volume part way through a re-key.
METADATA = {
    "keyslots": {"0": {"type": "luks2", "key_size": 64}, "1": {"type": "luks2", "key_size": 64},
                 "2": {"type": "reencrypt"}},
    "tokens": {"0": {"type": "softscm", "keyslots": ["1", "0"]}, "3": {"type": "systemd-tpm2", "keyslots": []}},
    "segments": {"0": {"type": "crypt"}, "1": {"type": "crypt"}, "2": {"type": "crypt"}},
    "digests": {"0": {"type": "pbkdf2", "keyslots": ["1"], "segments": ["0", "1"], "digest": "b2xk"},
                "1": {"type": "pbkdf2", "keyslots": ["0"], "segments": ["2"], "digest": "bmV3"}},
    "config": {"json_size": "12288", "requirements": {"mandatory": ["online-reencrypt-v2"]}},
}


def test_token_round_trip_and_fields():
    bound = TOKEN.evolve(bound=True)
    for token in (TOKEN, bound, bound.evolve(state=EnrolState.REKEYING, rekey_from="b2xk")):
        document = token.to_json()
        assert SoftscmToken.parse(json.loads(json.dumps(document))) == token
    assert TOKEN.to_json()["keyslots"] == [] and bound.to_json()["keyslots"] == ["1"]
    assert bound.to_json()["type"] == "softscm" and bound.to_json()["version"] == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"type": "luks2-keyring"}, "not a softscm token"),
    ({"version": 2}, "version 2"),
    ({"blob": "not base64!"}, "malformed"),
    ({"state": "half-done"}, "malformed"),
    ({"keyslots": ["5"]}, "not assigned"),
    ({"keyslot": None}, "malformed"),
])
def test_a_bad_token_is_a_typed_error(change, message):
    with pytest.raises(LuksError, match=message):
        SoftscmToken.parse({**TOKEN.evolve(bound=True).to_json(), **change})


def test_a_rekeying_token_may_already_point_at_the_new_slot():
    document = {**TOKEN.evolve(state=EnrolState.REKEYING, bound=True).to_json(), "keyslots": ["0"]}
    assert SoftscmToken.parse(document).state is EnrolState.REKEYING


def test_metadata_parse():
    meta = LuksMetadata.parse(json.dumps(METADATA))
    assert meta.reencrypting and meta.free_keyslot() == 3
    assert meta.keyslots[1].digest == 0 and meta.keyslots[0].digest == 1 and meta.keyslots[2].digest is None
    assert meta.segment_digest().id == 0 and meta.segment_digest().value == "b2xk"
    assert [t.id for t in meta.tokens_of_type("softscm")] == [0] and meta.tokens[0].keyslots == (1, 0)
    done = LuksMetadata.parse(json.dumps({**METADATA, "config": {}, "keyslots": {"0": METADATA["keyslots"]["0"]}}))
    assert not done.reencrypting


@pytest.mark.parametrize("document", [b"", b"[]", b'{"keyslots": {}}', b'{"keyslots": {"x": {}}, "tokens": {},'
                                      b' "digests": {}}'])
def test_bad_metadata_is_a_typed_error(document):
    with pytest.raises(LuksError):
        LuksMetadata.parse(document)


def test_progress_line():
    line = '{"device":"/dev/loop0","device_bytes":"1048576","device_size":"23068672","speed":"180197251",' \
           '"eta_ms":"12","time_ms":"128"}'
    assert ReencryptProgress.parse(line) == ReencryptProgress(1048576, 23068672, 180197251, 12)
    with pytest.raises(ValueError):
        ReencryptProgress.parse("Finished, time 00m00s")


def test_volume_key_dump():
    key = bytes(range(64))
    rows = [" ".join(f"{b:02x}" for b in key[i:i + 16]) + " " for i in range(0, 64, 16)]
    text = "LUKS header information for x\nMK bits:       \t512\nMK dump:\t" + rows[0] + "\n" + "".join(
        f"\t\t{row}\n" for row in rows[1:]) + "Keyslots:\n"
    assert _parse_volume_key_dump(text) == key
    with pytest.raises(LuksError):
        _parse_volume_key_dump("LUKS header information\nUUID: x\n")


def test_escrow_record_round_trip_and_sealing():
    operator = pyrage.x25519.Identity.generate()
    volume = uuid.uuid4()
    record = seal_volume_key(b"\x42" * 64, volume, b"digest", [parse_recipient(str(operator.to_public()))])
    assert EscrowRecord.parse(record.to_bytes()) == record
    assert EscrowRecord.parse_armor(record.to_armor()) == record
    assert EscrowRecord.from_token(record.to_token()) == record
    assert open_volume_key(record, parse_identities(f"# comment\n{operator}\n".encode())) == b"\x42" * 64
    with pytest.raises(AuthenticationError):
        open_volume_key(record, [pyrage.x25519.Identity.generate()])
    swapped = EscrowRecord(uuid.uuid4(), record.digest, record.sealed)  # sealed for another volume
    with pytest.raises(AuthenticationError, match="volume"):
        open_volume_key(swapped, [operator])


@pytest.mark.parametrize("data", [b"", b"SCMESCROW", b"NOTESCROW" + bytes(40), b"SCMESCROW\x02" + bytes(30)])
def test_a_bad_escrow_record_is_a_typed_error(data):
    with pytest.raises(LuksError):
        EscrowRecord.parse(data)


def test_bad_recipients_and_identities_are_typed_errors():
    with pytest.raises(InvalidKeyError):
        parse_recipient("age1notakey")
    with pytest.raises(InvalidKeyError):
        parse_identities(b"AGE-SECRET-KEY-1NOTAKEY\n")
    with pytest.raises(InvalidKeyError):
        parse_identities(b"# only a comment\n")
    with pytest.raises(InvalidKeyError):
        seal_volume_key(b"k", uuid.uuid4(), b"d", [])
