"""Finding a module board among serial ports by its USB ids and product string."""

from __future__ import annotations

import pytest
from serial.tools.list_ports_common import ListPortInfo

from softscm.host.gadget import PRODUCT_ID, PRODUCT_NAME, VENDOR_ID, ModulePort, find_module_ports
from softscm.wire.errors import TransportError


def _port(device: str, vid: int | None, pid: int | None, product: str | None, serial: str | None = None) -> ListPortInfo:
    port = ListPortInfo(device, skip_link_detection=True)
    port.vid, port.pid, port.product, port.serial_number = vid, pid, product, serial
    return port


def test_only_ports_with_the_gadget_ids_and_name_are_module_boards():
    ports = [
        _port("/dev/ttyACM1", VENDOR_ID, PRODUCT_ID, PRODUCT_NAME, "B2"),
        _port("/dev/ttyACM0", VENDOR_ID, PRODUCT_ID, PRODUCT_NAME, "A1"),
        _port("/dev/ttyACM2", VENDOR_ID, PRODUCT_ID, "some other gadget"),
        _port("/dev/ttyUSB0", 0x0403, 0x6001, "FT232R USB UART"),
        _port("/dev/ttyS0", None, None, None),
    ]
    assert find_module_ports(ports) == [ModulePort("/dev/ttyACM0", "A1"), ModulePort("/dev/ttyACM1", "B2")]
    assert ModulePort("/dev/ttyACM0", "A1").url == "serial:/dev/ttyACM0"


def test_this_machine_has_no_module_board_and_says_so():
    import softscm.host.gadget as gadget

    assert gadget.find_module_ports() == []  # read from this machine's /sys: no USB gadget here
    with pytest.raises(TransportError, match="no softscm module board"):
        gadget.find_module_port()
