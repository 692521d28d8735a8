"""Under --json (before or after the command) every failure is one JSON object on stderr: click's
usage errors, refused prompts and command errors as well as module errors; without it, people get
click's usual text. Ctrl-C on metrics serve is the way to stop it, not an error."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from softscm.host.cli.main import cli


def _invoke(url: str, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--url", url, *args], input=input)


@pytest.fixture
def url(tmp_path) -> str:
    return f"embedded:{tmp_path / 'state'}"


@pytest.mark.parametrize(("args", "kind", "status", "phrase"), [
    (["keys", "gen", "p384", "--json"], "usage", 2, "unknown key type 'p384'"),
    (["--json", "keys", "gen"], "usage", 2, "Missing argument 'KEY_TYPE'"),
    (["--json", "no-such-command"], "usage", 2, "No such command"),
    (["sign", "16", "--json"], "usage", 2, "give exactly one of --digest or --file"),
    (["keys", "pub", "99", "--json"], "SlotEmptyError", 5, "slot 99"),
    (["keys", "rm", "0", "--json"], "aborted", 1, "Aborted"),
    (["wallet", "slip39", "restore", "w", "--json"], "error", 1, "no more shares"),
], ids=["bad-value", "missing-argument", "no-command", "command-usage", "module-error", "refused-prompt",
        "command-error"])
def test_every_failure_is_one_json_object_under_json(url, args, kind, status, phrase):
    result = _invoke(url, *args, input="n\n")
    assert result.exit_code == status, result.output
    assert result.stdout == "" or args[:2] == ["keys", "rm"]  # the prompt itself goes to stdout
    error = json.loads(result.stderr.strip().splitlines()[-1])
    assert error["error"] == kind and error["exit_code"] == status and phrase in error["message"]


def test_without_json_people_get_the_usage_text(url):
    result = _invoke(url, "keys", "gen", "p384")
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: ") and "unknown key type 'p384'" in result.stderr
    assert "{" not in result.stderr


def test_ctrl_c_stops_metrics_serve_cleanly(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "softscm.host.cli.main", "--url", f"embedded:{tmp_path / 's'}",
                                "metrics", "serve", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert "serving metrics" in process.stdout.readline()
        time.sleep(0.1)
        os.kill(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0 and "Aborted" not in err and "stopped" in err
