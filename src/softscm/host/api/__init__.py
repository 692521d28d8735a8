"""The module's API, written once for both clients: one mixin per command area.

Each method builds its typed request and names what to return from the reply;
:class:`~softscm.host.client.Client` runs it and returns that, :class:`~softscm.host.aio.AsyncClient`
returns an awaitable of it. Every method raises the module's typed errors
(:mod:`softscm.wire.errors`).
"""

from .access import AccessApi
from .admin import AdminApi
from .base import ApiBase
from .boot import BootApi
from .cert import CertApi
from .clients import ClientsApi
from .disk import DiskApi
from .files import FilesApi
from .keys import KeysApi
from .log import LogApi
from .operations import OperationsApi
from .selftest import SelfTestApi
from .sensors import SensorsApi
from .wallet import WalletApi


class ModuleApi(AdminApi, KeysApi, OperationsApi, WalletApi, SensorsApi, LogApi, SelfTestApi, AccessApi, DiskApi,
                BootApi, ClientsApi, CertApi, FilesApi):
    """Every area's methods."""


AREAS: dict[str, type[ApiBase]] = {"admin": AdminApi, "keys": KeysApi, "operations": OperationsApi,
                                   "wallet": WalletApi, "sensors": SensorsApi, "log": LogApi,
                                   "selftest": SelfTestApi, "access": AccessApi, "disk": DiskApi, "boot": BootApi,
                                   "clients": ClientsApi, "cert": CertApi, "files": FilesApi}

__all__ = ["AREAS", "ApiBase", "ModuleApi"]
