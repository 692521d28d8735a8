"""The programs in examples/zymkey run unmodified against a real scmd and print what they claim."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import URL_VARIABLE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "zymkey"


def _env(scmd) -> dict[str, str]:
    return {**os.environ, URL_VARIABLE: scmd.url}


def _run(scmd, name: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                            timeout=60, env=_env(scmd))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_lock_unlock(scmd):
    out = _run(scmd, "lock_unlock.py")
    for line in ("unlocked data matches: True", "unlocked file matches: True", "cloud key round trip: True",
                 "tampered blob rejected: VerificationError"):
        assert line in out


def test_sign_verify(scmd):
    out = _run(scmd, "sign_verify.py")
    assert re.search(r"signature \(r\|\|s, 64 bytes\): [0-9a-f]{128}", out)
    assert "module verify: True" in out and "independent verify (cryptography): OK" in out
    assert "module verify of another message: False" in out


def test_ethereum_account(scmd):
    out = _run(scmd, "ethereum_account.py")
    assert "write down the 24-word mnemonic" in out
    lines = [line for line in out.splitlines() if line.startswith("m/44'/60'/0'/0/")]
    assert len(lines) == 3
    for i, line in enumerate(lines):
        match = re.fullmatch(r"m/44'/60'/0'/0/(\d) (0x[0-9a-f]{40}) v=(27|28) recovered (0x[0-9a-f]{40}) matches: True",
                             line)
        assert match and int(match[1]) == i and match[2] == match[4]


def test_slip39_backup(scmd):
    out = _run(scmd, "slip39_backup.py")
    assert len(re.findall(r"group \d member \d: 33-word share", out)) == 9
    assert out.count("(password)") == 5
    added = re.findall(r"added group \d member \d -> (-?\d+)", out)
    assert added[:-1] == ["-1"] * 4 and int(added[-1]) >= 16
    assert re.search(r"restored wallet in slot \d+; same keys: True", out)


def test_oversight_wallet(scmd):
    out = _run(scmd, "oversight_wallet.py")
    assert "account xpub parts: public key 64 bytes, chain code 32 bytes" in out
    assert len(re.findall(r"m/44'/60'/0'/0/\d 0x[0-9a-f]{40} matches the full wallet: True", out)) == 3
    assert "hardened child of a watch-only wallet refused" in out


def test_perimeter_wait(scmd):
    assert "no perimeter event within 300 ms" in _run(scmd, "perimeter_wait.py", "300")
    process = subprocess.Popen([sys.executable, str(EXAMPLES / "perimeter_wait.py"), "20000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(scmd))
    try:
        assert process.stdout is not None
        assert "armed" in process.stdout.readline()
        time.sleep(0.3)
        with scmd.connect() as rig:
            rig.simulate("perimeter_open", channel=1)
            out, err = process.communicate(timeout=30)
            rig.simulate("perimeter_close", channel=1)
            rig.clear_perimeter_detect_info()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert re.search(r"channel 1 breached at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", out) and "cleared and re-armed" in out


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_is_run_by_a_test(name):
    tested = {"lock_unlock.py", "sign_verify.py", "ethereum_account.py", "slip39_backup.py", "oversight_wallet.py",
              "perimeter_wait.py"}
    tested_in_test_boot = {"supervised_boot_manifest.py"}
    assert name in tested | tested_in_test_boot
