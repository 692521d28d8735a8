#!/usr/bin/env python3
"""Manage the supervised-boot manifest: the /boot files the module checks before the host boots.
Usage: supervised_boot_manifest.py list
       supervised_boot_manifest.py add FILE [SLOT]     (FILE relative to /boot; SLOT 0-15, default 15)
       supervised_boot_manifest.py remove FILE
       supervised_boot_manifest.py policy 0|1|2        (0 nothing, 1 self-destruct, 2 hold in reset)"""

import sys

import zymkey

if len(sys.argv) < 2:
    sys.exit(__doc__)
command = sys.argv[1]
if command == "add":
    slot = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    zymkey.client.add_or_update_supervised_boot_file(sys.argv[2], slot)
    print("added %s (signed with slot %d)" % (sys.argv[2], slot))
elif command == "remove":
    zymkey.client.remove_supervised_boot_file(sys.argv[2])
    print("removed", sys.argv[2])
elif command == "policy":
    zymkey.client.set_supervised_boot_policy(int(sys.argv[2]))
    print("policy set to", sys.argv[2])
elif command != "list":
    sys.exit(__doc__)
files = zymkey.client.get_supervised_boot_file_manifest().split()
print("manifest: %d file(s)" % len(files))
for name in files:
    print("  " + name)
