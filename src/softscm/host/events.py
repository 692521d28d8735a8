"""Host-side events for the module's log: power cycles seen across restarts, network interfaces
going up or down, and wall-clock jumps. ``HostWatcher.poll()`` returns what changed since the
last poll; ``scmctl host-events watch`` records each in the module."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .files import write_file

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
NET = Path("/sys/class/net")
JUMP_S = 2.0


@dataclass
class HostWatcher:
    """Watches the host. ``state_file`` keeps the last boot id seen, so a power cycle between two
    runs is noticed at the next start."""

    state_file: Path
    boot_id_path: Path = BOOT_ID
    net_dir: Path = NET
    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    _links: dict[str, str] = field(default_factory=dict)
    _clock: tuple[float, float] | None = None

    def poll(self) -> list[tuple[str, dict[str, str | float]]]:
        found: list[tuple[str, dict[str, str | float]]] = []
        boot_id = self.boot_id_path.read_text().strip() if self.boot_id_path.exists() else ""
        known = json.loads(self.state_file.read_text()) if self.state_file.exists() else {}
        if boot_id and known.get("boot_id") not in (None, boot_id):
            found.append(("power_cycle", {"previous_boot": known["boot_id"], "boot": boot_id}))
        if boot_id != known.get("boot_id"):
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            write_file(self.state_file, json.dumps({"boot_id": boot_id}).encode())
        for link in sorted(self.net_dir.glob("*")) if self.net_dir.exists() else []:
            operstate = (link / "operstate").read_text().strip() if (link / "operstate").exists() else "unknown"
            before = self._links.get(link.name)
            if before is not None and before != operstate and operstate in ("up", "down"):
                found.append((f"network_{operstate}", {"interface": link.name}))
            self._links[link.name] = operstate
        wall, mono = self.wall(), self.monotonic()
        if self._clock is not None:
            jump = (wall - self._clock[0]) - (mono - self._clock[1])
            if abs(jump) >= JUMP_S:
                found.append(("time_jump", {"seconds": round(jump, 3)}))
        self._clock = (wall, mono)
        return found
