"""The module surface: every method of the reference with its parameter names, order and
defaults; the tables, constants, strategies, helpers and exceptions; the client made at import."""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from Crypto.Hash import keccak

import zymkey
from zymkey.exceptions import CommandError, VaultError, VerificationError, ZymkeyLibraryError, ZymkeyTimeoutError

from .reference import CLASSES, METHODS, parse

ZYMKEY_SOURCE = Path(zymkey.__file__).parent


def _rendered(function) -> list[str]:
    params = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
    rendered = []
    for p in params:
        assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, f"{p.name} must be passable both ways"
        if p.default is inspect.Parameter.empty:
            rendered.append(p.name)
        elif isinstance(p.default, zymkey.RecoveryStrategy):
            assert p.default.recovery_strategy == "" and type(p.default) is zymkey.RecoveryStrategy
            rendered.append(f"{p.name}=RecoveryStrategy()")
        else:
            rendered.append(f"{p.name}={p.default!r}")
    return rendered


@pytest.mark.parametrize("name, params", parse(METHODS).items(), ids=list(parse(METHODS)))
def test_method_signature_matches_the_reference(name, params):
    assert _rendered(getattr(zymkey.Zymkey, name)) == params


def test_no_public_method_outside_the_reference():
    public = {n for n, v in inspect.getmembers(zymkey.Zymkey, inspect.isfunction) if not n.startswith("_")}
    assert public - set(parse(METHODS)) == {"close"}


@pytest.mark.parametrize("name, params", parse(CLASSES).items(), ids=list(parse(CLASSES)))
def test_class_signature_matches_the_reference(name, params):
    assert _rendered(getattr(zymkey, name).__init__) == params


def test_tables_and_constants():
    assert zymkey.keyTypes == {"secp256r1": 0, "nistp256": 0, "secp256k1": 1, "ed25519": 2, "x25519": 3}
    assert zymkey.kdfFuncTypes == {"none": 0, "rfc5869-sha256": 1, "rfc5869-sha512": 2, "pbkdf2-sha256": 3,
                                   "pbkdf2-sha512": 4}
    with pytest.raises(KeyError):
        zymkey.keyTypes["rsa2048"]
    assert (zymkey.CLOUD_ENCRYPTION_KEY, zymkey.ZYMKEY_ENCRYPTION_KEY) == ("cloud", "zymkey")
    assert set(zymkey.ENCRYPTION_KEYS) == {"cloud", "zymkey"} and isinstance(zymkey.ENCRYPTION_KEYS, tuple)
    assert zymkey.Zymkey.EPHEMERAL_KEY_SLOT == -1


def test_recovery_strategies():
    base = zymkey.RecoveryStrategy()
    assert (base.recovery_strategy, base.variant, base.passphrase) == ("", "", "")
    bip39 = zymkey.RecoveryStrategyBIP39("cardano", "cGFzcw==")
    assert (bip39.recovery_strategy, bip39.variant, bip39.passphrase) == ("BIP39", "cardano", "cGFzcw==")
    slip39 = zymkey.RecoveryStrategySLIP39(3, 2, 0)
    assert (slip39.recovery_strategy, slip39.group_count, slip39.group_threshold, slip39.iteration_exponent,
            slip39.variant, slip39.passphrase) == ("SLIP39", 3, 2, 0, "", "")
    assert isinstance(slip39, zymkey.RecoveryStrategy)


def test_exceptions_submodule():
    assert zymkey.exceptions is sys.modules["zymkey.exceptions"]
    for cls in (VerificationError, ZymkeyLibraryError, ZymkeyTimeoutError, CommandError, VaultError):
        assert issubclass(cls, Exception) and getattr(zymkey.exceptions, cls.__name__) is cls


def test_digest_object():
    assert zymkey.DigestObject("héllo").digest() == hashlib.sha256("héllo".encode()).digest()
    assert zymkey.DigestObject(b"h\xc3\xa9llo").digest() == hashlib.sha256("héllo".encode()).digest()
    assert zymkey.DigestObject("abc", digest=hashlib.sha512()).digest() == hashlib.sha512(b"abc").digest()
    assert zymkey.DigestObject("abc", encoding="utf-16-le").digest() == hashlib.sha256("abc".encode("utf-16-le")).digest()
    eth = zymkey.DigestObject("abc", digest=keccak.new(digest_bits=256)).digest()
    assert eth.hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"  # Keccak-256("abc")
    with pytest.raises(UnicodeDecodeError):
        zymkey.DigestObject(b"\xff\xfe")


def test_recovery_id_is_an_int_with_value():
    recid = zymkey.RecoveryId(3)
    assert recid == 3 and int(recid) == 3 and recid.value == 3 and isinstance(recid, int)


def _import_client(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import zymkey; print(type(zymkey.client).__name__, zymkey.create_new_client() is None)"
    return subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, timeout=30,
                          env=env)


def test_client_at_import_reaches_the_module_named_by_the_environment(scmd):
    base = {k: v for k, v in os.environ.items() if k not in ("ZYMKEY_SOFTSCM_URL", "SOFTSCM_URL")}
    result = _import_client({**base, "SOFTSCM_URL": scmd.url})
    assert result.stdout.split() == ["Zymkey", "False"], result.stderr
    # ZYMKEY_SOFTSCM_URL wins over SOFTSCM_URL
    result = _import_client({**base, "ZYMKEY_SOFTSCM_URL": scmd.url, "SOFTSCM_URL": "unix:/nonexistent.sock"})
    assert result.stdout.split() == ["Zymkey", "False"], result.stderr


def test_client_is_none_with_a_warning_when_no_module_answers(tmp_path):
    env = {**os.environ, "ZYMKEY_SOFTSCM_URL": f"unix:{tmp_path / 'nobody.sock'}"}
    result = _import_client(env)
    assert result.returncode == 0
    assert result.stdout.split() == ["NoneType", "True"]
    assert "RuntimeWarning" in result.stderr and "no module reached" in result.stderr


def test_zymkey_imports_nothing_from_the_module_side():
    for path in ZYMKEY_SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in (n for n in names if n.split(".")[0] == "softscm"):
                assert name.split(".")[1:2] in (["host"], ["wire"]), f"{path.name} imports {name}"
