"""The audit log: read (also while in ERROR or DESTROYED), checkpoint, keys, host events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...sealedlog.reader import read_log
from ...wire.defs import Command, Event
from ...wire.errors import InvalidArgumentError, ModuleStateError
from ..args import Args
from ..dispatch import ANY_STATE, READY_OR_HOLD, command

if TYPE_CHECKING:
    from ..module import Module

MAX_READ = 10_000
HOST_EVENT_KINDS = ("power_cycle", "network_up", "network_down", "time_jump", "boot", "shutdown", "custom")


def _event_filter(args: Args) -> list[int]:
    names = args.list("events", [], max=64)
    try:
        return [int(Event[n.upper()]) if isinstance(n, str) else int(Event(n)) for n in names]
    except (KeyError, ValueError):
        raise InvalidArgumentError("unknown event name in the filter") from None


@command(Command.LOG_READ, states=ANY_STATE)
def log_read(module: Module, args: Args) -> dict[str, Any]:
    """Entries from ``since_seq`` (at most ``limit``, optionally only some ``events``) and every
    checkpoint, as JSON lines. Works in every state, destroyed included."""
    entries, checkpoints = read_log(module.state_dir, since_seq=args.int("since_seq", 0, min=0),
                                    events=_event_filter(args), limit=args.int("limit", MAX_READ, min=1, max=MAX_READ))
    return {"entries": [e.to_json() for e in entries], "checkpoints": [c.to_json() for c in checkpoints]}


@command(Command.LOG_CHECKPOINT, states=READY_OR_HOLD)
def log_checkpoint(module: Module, args: Args) -> str | None:
    """Sign the log's current head now."""
    assert module.audit is not None
    checkpoint = module.audit.checkpoint()
    return checkpoint.to_json() if checkpoint else None


@command(Command.LOG_PUBLIC_KEY, states=READY_OR_HOLD)
def log_keys(module: Module, args: Args) -> dict[str, Any]:
    """The checkpoint public key; with ``claim=True`` also the initial MAC key, handed out once."""
    if module.audit is None:
        raise ModuleStateError("the audit log is closed")
    result: dict[str, Any] = {"public_key": module.audit.public_key, "unlogged": module.audit.unlogged,
                              "head_seq": module.audit.head_seq}
    if args.bool("claim", False):
        result["initial_mac_key"] = module.audit.claim_verifier_key()
    return result


@command(Command.LOG_HOST_EVENT, states=READY_OR_HOLD)
def host_event(module: Module, args: Args) -> None:
    """Record a host-side event (``kind`` and free-form ``details``) in the audit log."""
    kind = args.str("kind", max=32)
    if kind not in HOST_EVENT_KINDS:
        raise InvalidArgumentError(f"host event kind is one of {', '.join(HOST_EVENT_KINDS)}")
    details = args.values().get("details") or {}
    if not isinstance(details, dict) or len(details) > 32 or not all(
            isinstance(k, str) and isinstance(v, (str, int, float, bool)) for k, v in details.items()):
        raise InvalidArgumentError("details is a small map of text keys to scalars")
    module.record(Event.HOST_EVENT, kind=kind, **{f"host_{k}": v for k, v in details.items()})
