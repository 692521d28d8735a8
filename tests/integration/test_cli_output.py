"""scmctl's human output: no raw Python values, dates where times are shown, hex in one piece,
titles and command summaries whole."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

from click.testing import CliRunner

from softscm.host.cli.main import cli

DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


def _out(url: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--url", url, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_admin_status_and_info_read_as_text(tmp_path):
    url = f"embedded:{tmp_path / 'state'}"
    status = _out(url, "admin", "status")
    assert not re.search(r"\{|\bNone\b|\bTrue\b|\bFalse\b", status), status
    lines = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in status.splitlines())
    assert re.fullmatch(r"[\d.]+ (ms|s|min)", lines["uptime"])
    assert re.fullmatch(r"power-on passed in [\d.]+ ms at " + DATE.pattern, lines["self tests"])
    assert lines["state"] == "READY" and lines["bound"] == "no"
    info = _out(url, "admin", "info")
    key = re.search(r"^identity public key\s+([0-9a-f]+)$", info, re.M)
    assert key and len(key.group(1)) == 64  # one piece, no box around it
    assert "│" not in info


def test_keys_list_title_is_one_line(tmp_path):
    assert _out(f"embedded:{tmp_path / 'state'}", "keys", "list").splitlines()[0] == "16 of 528 slots in use"


def test_tamper_info_and_events_show_dates(daemon):
    events = subprocess.Popen([sys.executable, "-m", "softscm.host.cli.main", "--url", daemon.url, "events",
                               "--timeout", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(events.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    deadline = time.monotonic() + 30
    while not any(" TAMPER " in line for line in lines) and time.monotonic() < deadline:
        # a breach is reported once until cleared: repeat until the subscriber (a new process) listens
        for action in (["sim", "perimeter-open", "channel=0"], ["sim", "perimeter-close", "channel=0"],
                       ["tamper", "clear"]):
            _out(daemon.url, *action)
        time.sleep(0.3)
    events.terminate()
    events.wait(timeout=15)
    reader.join(timeout=5)
    tamper = [line for line in lines if " TAMPER " in line]
    assert tamper and all(DATE.match(line) and "1795" not in line and "time=20" in line for line in tamper), lines
    _out(daemon.url, "sim", "perimeter-open", "channel=0")
    info = _out(daemon.url, "tamper", "info")
    assert DATE.search(info) and "1795" not in info
    shown = _out(daemon.url, "log", "show", "--event", "TAMPER")
    assert "time=20" in shown and "1795" not in shown


def test_command_lists_show_whole_summaries():
    for group in ([], ["wallet"], ["admin"], ["log"], ["policy"], ["wallet", "slip39"]):
        text = CliRunner().invoke(cli, [*group, "--help"]).output
        commands = text.split("Commands:")[1].split("Exit codes:")[0]
        assert not re.search(r"\.\.\.$", commands, re.M), commands
    assert "m/44'/60'/0'/0/0" in CliRunner().invoke(cli, ["wallet", "--help"]).output
    assert "foreign (public-only) key slot" in CliRunner().invoke(cli, ["keys", "pub", "--help"]).output
