"""The wire contract: a frozen request and reply record per command, used by both sides.

Importing this package imports every area, so :data:`CONTRACT` lists every command.
"""

from . import access, admin, boot, cert, clients, disk, files, keys, log, operations, selftest, sensors, wallet
from .base import CONTRACT, Done, Message, Request

AREAS = {"admin": admin, "keys": keys, "operations": operations, "wallet": wallet, "sensors": sensors,
         "log": log, "selftest": selftest, "access": access, "disk": disk, "boot": boot, "clients": clients,
         "cert": cert, "files": files}
"""Each area's messages module, by the area name used in module/commands, host/api and the CLI."""

__all__ = ["AREAS", "CONTRACT", "Done", "Message", "Request"]
