"""scmctl against an embedded module and a real scmd: round trips, --json, exit codes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from softscm.host.cli.main import cli


@pytest.fixture
def run(tmp_path):
    url = f"embedded:{tmp_path / 'state'}"
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None, as_json: bool = False):
        result = runner.invoke(cli, ["--url", url, *(["--json"] if as_json else []), *args], input=input)
        return result, (json.loads(result.stdout) if as_json and result.exit_code == 0 else None)

    return invoke


def test_keys_sign_verify_round_trip(run, tmp_path):
    result, data = run("keys", "gen", "secp256k1", as_json=True)
    assert result.exit_code == 0
    slot = data["slot"]
    message = tmp_path / "firmware.bin"
    message.write_bytes(b"firmware image")
    _, signed = run("sign", str(slot), "--file", str(message), "--recid", as_json=True)
    assert len(bytes.fromhex(signed["signature"])) == 64 and signed["recovery_id"] in (0, 1, 2, 3)
    result, _ = run("verify", str(slot), "--file", str(message), "--signature", signed["signature"])
    assert result.exit_code == 0 and "valid" in result.stdout
    digest = hashlib.sha256(b"firmware image").hexdigest()
    result, _ = run("verify", str(slot), "--digest", digest, "--signature", signed["signature"])
    assert result.exit_code == 0
    message.write_bytes(b"tampered image")
    result, _ = run("verify", str(slot), "--file", str(message), "--signature", signed["signature"])
    assert result.exit_code == 4 and "InvalidSignatureError" in result.stderr


def test_ed25519_signs_the_message_and_pubkey_verifies(run, tmp_path):
    _, data = run("keys", "gen", "ed25519", as_json=True)
    slot = data["slot"]
    _, pub = run("keys", "pub", str(slot), as_json=True)
    message = tmp_path / "m"
    message.write_bytes(b"hello")
    _, signed = run("sign", str(slot), "--file", str(message), as_json=True)
    result, _ = run("verify", "--pubkey", pub["public_key"], "--type", "ed25519", "--file", str(message),
                    "--signature", signed["signature"])
    assert result.exit_code == 0
    result, _ = run("keys", "pub", str(slot), "--pem")
    assert result.stdout.startswith("-----BEGIN PUBLIC KEY-----")


def test_list_json_and_table(run):
    run("keys", "gen", "x25519")
    _, data = run("keys", "list", as_json=True)
    assert data["capacity"] == 16 + 512
    assert {"slot": 16, "key_type": "x25519"} in data["slots"]
    result, _ = run("keys", "list")
    assert "x25519" in result.stdout and "17 of 528" in result.stdout


def test_ecdh_between_two_slots(run):
    a = run("keys", "gen", "x25519", as_json=True)[1]["slot"]
    b = run("keys", "gen", "x25519", as_json=True)[1]["slot"]
    pub_a = run("keys", "pub", str(a), as_json=True)[1]["public_key"]
    pub_b = run("keys", "pub", str(b), as_json=True)[1]["public_key"]
    k1 = run("ecdh", str(a), "--peer", pub_b, "--kdf", "hkdf-sha256", "--info", "0102", as_json=True)[1]["key"]
    k2 = run("ecdh", str(b), "--peer", pub_a, "--kdf", "hkdf-sha256", "--info", "0102", as_json=True)[1]["key"]
    assert k1 == k2 and len(k1) == 64


def test_lock_unlock_files(run, tmp_path):
    (tmp_path / "secret.txt").write_bytes(b"db password")
    assert run("lock", str(tmp_path / "secret.txt"), str(tmp_path / "secret.blob"))[0].exit_code == 0
    assert run("unlock", str(tmp_path / "secret.blob"), str(tmp_path / "out.txt"))[0].exit_code == 0
    assert (tmp_path / "out.txt").read_bytes() == b"db password"
    blob = bytearray((tmp_path / "secret.blob").read_bytes())
    blob[12] ^= 1
    (tmp_path / "bad.blob").write_bytes(bytes(blob))
    result, _ = run("unlock", str(tmp_path / "bad.blob"), str(tmp_path / "out2.txt"))
    assert result.exit_code == 4 and not (tmp_path / "out2.txt").exists()


def test_exit_codes(run, tmp_path):
    assert run("sign", "99", "--digest", "00" * 32)[0].exit_code == 5
    assert run("keys", "gen", "rsa")[0].exit_code == 2
    result = CliRunner().invoke(cli, ["--url", f"unix:{tmp_path}/none.sock", "admin", "status"])
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert run("sign", "16")[0].exit_code == 2  # neither --digest nor --file
    assert run("random", "32", as_json=True)[0].exit_code == 0


def test_wallet_restore_reads_the_mnemonic_from_stdin(run):
    words = "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful " \
            "legal winner thank year wave sausage worth title"
    result, data = run("wallet", "restore", "eth", input=words + "\n", as_json=True)
    assert result.exit_code == 0, result.output
    _, derived = run("wallet", "derive", "eth", "m/44'/60'/0'/0/0", as_json=True)
    assert derived["slot"] > data["master_slot"]
    _, listed = run("wallet", "list", as_json=True)
    assert listed[0]["name"] == "eth" and listed[0]["nodes"] == 6
    assert run("wallet", "restore", "bad", input="legal winner\n")[0].exit_code == 4


def test_slip39_create_and_restore_via_cli(run):
    result, created = run("wallet", "slip39", "create", "backup", "--group-threshold", "1", "--group", "2/3",
                          "--iteration-exponent", "0", as_json=True)
    assert result.exit_code == 0, result.output
    shares = [s["mnemonic"] for s in created["shares"]]
    assert len(shares) == 3
    result, restored = run("wallet", "slip39", "restore", "again", input=f"{shares[2]}\n{shares[0]}\n", as_json=True)
    assert result.exit_code == 0, result.output
    assert restored["master_slot"] > created["master_slot"]


def test_against_a_real_daemon(daemon):
    def scmctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "softscm.host.cli.main", "--url", daemon.url, *args],
                              capture_output=True, text=True, timeout=30)

    slot = json.loads(scmctl("--json", "keys", "gen", "nistp256").stdout)["slot"]
    signed = json.loads(scmctl("--json", "sign", str(slot), "--digest", "11" * 32).stdout)
    assert scmctl("verify", str(slot), "--digest", "11" * 32, "--signature", signed["signature"]).returncode == 0
    status = json.loads(scmctl("--json", "admin", "status").stdout)
    assert status["state"] == "READY" and status["ops"]["SIGN"] == 1


def test_sim_tamper_policy_and_events(run, tmp_path):
    assert run("tamper", "set-action", "1", "--self-destruct")[0].exit_code == 0
    assert run("sim", "perimeter-open", "channel=1")[0].exit_code == 0
    _, info = run("tamper", "info", as_json=True)
    assert info["first_breach"][0] == 0 and info["first_breach"][1] > 0
    _, status = run("admin", "status", as_json=True)
    assert status["state"] == "READY"  # development mode: the module carries on (LED: test_tamper.py)
    assert run("policy", "battery", "--threshold", "2.6")[0].exit_code == 2
    assert run("policy", "battery", "--threshold", "2.2", "--action", "sleep")[0].exit_code == 0
    _, policy = run("policy", "show", as_json=True)
    assert policy["battery_threshold"] == 2.2 and policy["battery_action"] == 1
    assert run("sim", "bogus")[0].exit_code == 2
    result, _ = run("events", "--timeout", "0.3")
    assert result.exit_code == 0


def test_scmsim_latches_a_breach_on_a_stopped_module(tmp_path):
    state = tmp_path / "state"
    CliRunner().invoke(cli, ["--url", f"embedded:{state}", "admin", "info"])
    done = subprocess.run([sys.executable, "-m", "softscm.module.sensors.simtool", "--state-dir", str(state),
                           "perimeter-open", "channel=0"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    result = CliRunner().invoke(cli, ["--url", f"embedded:{state}", "--json", "tamper", "info"])
    assert json.loads(result.stdout)["first_breach"][0] > 0


def test_bench_reports_every_operation_and_cleans_up(run):
    result, rows = run("bench", "--seconds", "0.05", as_json=True)
    assert result.exit_code == 0, result.output
    assert {r["operation"] for r in rows} >= {"sign nistp256", "sign ed25519", "keygen nistp256 (durable)"}
    assert all(r["count"] >= 1 and r["min_us"] <= r["avg_us"] and r["ops_per_s"] > 0 for r in rows)
    _, listed = run("keys", "list", as_json=True)
    assert len(listed["slots"]) == 16  # the benchmark's keys are gone
