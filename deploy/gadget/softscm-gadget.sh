#!/bin/sh
# Present the module board as a USB CDC-ACM serial gadget through configfs (libcomposite), so the
# host sees /dev/ttyACM* and scmd on this board serves /dev/ttyGS0.
#   softscm-gadget.sh up [SERIAL]   create and bind the gadget (SERIAL: shown to the host; default:
#                                   the board's /etc/machine-id, first 16 characters)
#   softscm-gadget.sh down          unbind and remove what "up" created (and nothing else)
# Needs a USB device controller in peripheral mode (Raspberry Pi CM4/Zero: dtoverlay=dwc2,dr_mode=peripheral).
# The ids are the Linux Foundation's composite-gadget ids; deploy/udev/99-softscm.rules on the host
# matches them together with the product string.
set -eu

GADGET=/sys/kernel/config/usb_gadget/softscm
VENDOR=0x1d6b     # Linux Foundation
PRODUCT=0x0104    # Multifunction Composite Gadget
PRODUCT_NAME="softscm module"

up() {
    serial=${1:-$(cut -c1-16 /etc/machine-id)}
    modprobe libcomposite
    if [ -d "$GADGET" ]; then
        echo "softscm-gadget: $GADGET already exists; run 'down' first" >&2
        exit 1
    fi
    mkdir "$GADGET"
    cd "$GADGET"
    echo "$VENDOR" > idVendor
    echo "$PRODUCT" > idProduct
    echo 0x0100 > bcdDevice
    echo 0x0200 > bcdUSB
    mkdir strings/0x409
    echo "$serial" > strings/0x409/serialnumber
    echo "softscm" > strings/0x409/manufacturer
    echo "$PRODUCT_NAME" > strings/0x409/product
    mkdir configs/c.1
    mkdir configs/c.1/strings/0x409
    echo "CDC ACM" > configs/c.1/strings/0x409/configuration
    echo 100 > configs/c.1/MaxPower
    mkdir functions/acm.usb0
    ln -s functions/acm.usb0 configs/c.1/
    udc=$(ls /sys/class/udc | head -n 1)
    if [ -z "$udc" ]; then
        echo "softscm-gadget: no USB device controller (is dwc2 loaded in peripheral mode?)" >&2
        exit 1
    fi
    echo "$udc" > UDC
    echo "softscm-gadget: bound to $udc; scmd serves /dev/ttyGS0"
}

down() {
    [ -d "$GADGET" ] || exit 0
    cd "$GADGET"
    echo "" > UDC 2>/dev/null || true
    rm -f configs/c.1/acm.usb0
    rmdir configs/c.1/strings/0x409 configs/c.1 functions/acm.usb0 strings/0x409
    cd /
    rmdir "$GADGET"
}

case "${1:-}" in
    up) shift; up "$@" ;;
    down) down ;;
    *) echo "usage: $0 up [SERIAL] | down" >&2; exit 2 ;;
esac
