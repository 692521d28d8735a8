"""Finding a softscm module board attached over USB (the CDC-ACM gadget that
``deploy/gadget/softscm-gadget.sh`` creates) among the host's serial ports.

pyserial's port listing reads the USB attributes from ``/sys``; a module board is a port with the
gadget's vendor and product ids and the product string ``softscm module``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from ..wire.errors import TransportError

VENDOR_ID = 0x1D6B  # Linux Foundation
PRODUCT_ID = 0x0104  # Multifunction Composite Gadget
PRODUCT_NAME = "softscm module"


@dataclass(frozen=True)
class ModulePort:
    """A module board's serial line: the device to open and the serial number it reports."""

    device: str
    serial_number: str | None

    @property
    def url(self) -> str:
        return f"serial:{self.device}"


def is_module_port(port: ListPortInfo) -> bool:
    return port.vid == VENDOR_ID and port.pid == PRODUCT_ID and port.product == PRODUCT_NAME


def find_module_ports(ports: Iterable[ListPortInfo] | None = None) -> list[ModulePort]:
    """Module boards among ``ports`` (default: every serial port of this host), by device name."""
    found = [ModulePort(port.device, port.serial_number)
             for port in (list_ports.comports() if ports is None else ports) if is_module_port(port)]
    return sorted(found, key=lambda port: port.device)


def find_module_port(serial_number: str | None = None) -> ModulePort:
    """The one attached module board (or the one with ``serial_number``).

    :raises TransportError: if there is none, or several and no serial number says which.
    """
    ports = [port for port in find_module_ports() if serial_number in (None, port.serial_number)]
    if not ports:
        raise TransportError("no softscm module board is attached over USB")
    if len(ports) > 1:
        raise TransportError(f"{len(ports)} module boards are attached; name one: "
                             + ", ".join(port.url for port in ports))
    return ports[0]
