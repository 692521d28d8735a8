"""The README's code runs as written, against a real scmd, so it cannot drift from the code.

Every fenced ``python`` and ``sh`` block runs in README order in a temporary $HOME, except blocks
preceded by ``<!-- not run: reason -->`` (they start daemons or install things). The daemon is the
README's own second scmd line (TCP port 0 instead of 7070). A block preceded by
``<!-- with scmd stopped -->`` runs after that daemon stopped. The tour reads two files a user
would have (firmware.bin, secrets.txt); the test makes them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import softscm

from ..conftest import Daemon

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent
NOT_RUN = "not run:"
STOPPED = "with scmd stopped"


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    marker: str  # the HTML comment just above the block, if any
    line: int


def readme_blocks() -> list[Block]:
    """The README's fenced blocks that name a language, each with the comment above it."""
    blocks, marker, lines = [], "", README.read_text().splitlines()
    index = 0
    while index < len(lines):
        text = lines[index]
        comment = re.fullmatch(r"<!--\s*(.*?)\s*-->", text.strip())
        if comment:
            marker = comment.group(1)
        elif text.startswith("```") and text[3:].strip():
            end = lines.index("```", index + 1)
            blocks.append(Block(text[3:].strip(), "\n".join(lines[index + 1:end]), marker, index + 1))
            marker, index = "", end
        elif text.strip():
            marker = ""
        index += 1
    return blocks


def _shell_checked(code: str) -> str:
    """Each line's status checked (``set -e`` lets a failure inside ``a && b`` pass)."""
    out = ["set -o pipefail"]
    for number, line in enumerate(code.splitlines(), 1):
        out.append(line)
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(f'rc=$?; [ $rc -eq 0 ] || {{ echo "README line {number} failed ($rc)" >&2; exit $rc; }}')
    return "\n".join(out)


def _run(block: Block, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    if block.language == "python":
        command = [sys.executable, "-c", block.code]
    else:
        command = ["bash", "-c", _shell_checked(block.code)]
    return subprocess.run(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120)


def test_the_readme_blocks_are_classified_and_exceptions_are_few():
    blocks = readme_blocks()
    assert {b.language for b in blocks} == {"python", "sh"}
    skipped = [b for b in blocks if b.marker.startswith(NOT_RUN)]
    assert len(skipped) <= 2 and all(len(b.marker) > len(NOT_RUN) + 10 for b in skipped)  # a reason each
    assert len([b for b in blocks if not b.marker.startswith(NOT_RUN)]) >= 3
    assert "../shared" not in README.read_text()
    assert (README.parent / "docs" / "architecture.md").is_file()


def test_the_readme_runs_against_a_real_module(tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (work / "firmware.bin").write_bytes(b"firmware image\n")
    (work / "secrets.txt").write_bytes(b"attack at dawn\n")
    env = {k: v for k, v in os.environ.items() if k != "SOFTSCM_URL"}
    env.update(HOME=str(home), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}")
    blocks = readme_blocks()
    (daemon_line,) = [line for b in blocks for line in b.code.splitlines() if "--socket ~/scm.sock" in line]
    ready = tmp_path / "ready"
    command = daemon_line.split("#")[0].replace(".venv/bin/", f"{BIN}/").replace(":7070", ":0")
    scmd = subprocess.Popen(["bash", "-c", f"exec {command} --ready-file {ready} --log-level WARNING"], env=env,
                            stderr=subprocess.PIPE)
    outputs = []
    try:
        Daemon.wait_ready(scmd, ready)
        for block in blocks:
            if block.marker.startswith(NOT_RUN) or block.marker == STOPPED:
                continue
            env_block = {**env, "SOFTSCM_URL": f"unix:{home / 'scm.sock'}"} if block.language == "python" else env
            result = _run(block, env_block, work)
            assert result.returncode == 0, f"README block at line {block.line}:\n{result.stdout}\n{result.stderr}"
            outputs.append(result.stdout)
    finally:
        scmd.send_signal(signal.SIGTERM)
        assert scmd.wait(timeout=15) == 0
    tour = outputs[-1]
    assert "signature is valid" in tour and "attack at dawn" in tour and "log verifies" in tour
    assert sorted(p.name for p in work.iterdir()) == ["checkpoint.json", "firmware.bin", "log.jsonl", "offline.jsonl",
                                                      "secrets.blob", "secrets.txt"]
    for block in blocks:
        if block.marker == STOPPED:
            result = _run(block, env, work)
            assert result.returncode == 0, f"README block at line {block.line}:\n{result.stderr}"
    with softscm.connect(f"embedded:{home / 'scm'}") as scm:
        assert scm.get_perimeter_detect_info()[1] > 0  # scmsim's breach, latched while scmd was stopped
