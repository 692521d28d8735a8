#!/usr/bin/env python3
"""Arm both perimeter channels to notify, then wait for a breach with a timeout.
Usage: perimeter_wait.py [timeout_ms]"""

import sys
import time

import zymkey

timeout_ms = int(sys.argv[1]) if len(sys.argv) > 1 else 10000

for channel in (0, 1):
    zymkey.client.set_perimeter_event_actions(channel, action_notify=True, action_self_destruct=False)
zymkey.client.clear_perimeter_detect_info()
print("armed; waiting up to %d ms for a perimeter event" % timeout_ms, flush=True)
try:
    zymkey.client.wait_for_perimeter_event(timeout_ms=timeout_ms)
except zymkey.exceptions.ZymkeyTimeoutError:
    print("no perimeter event within %d ms" % timeout_ms)
    sys.exit(0)
for channel, first in enumerate(zymkey.client.get_perimeter_detect_info()):
    if first:
        print("channel %d breached at %s" % (channel, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(first))))
zymkey.client.clear_perimeter_detect_info()
print("cleared and re-armed")
