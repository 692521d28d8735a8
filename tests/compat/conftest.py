"""One real ``scmd`` per test module, and a `zymkey.Zymkey` connected to it the way code written
for Zymbit modules gets one: through the environment at construction time."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator

import pytest

from tests.conftest import Daemon

with warnings.catch_warnings():  # no module at the default socket while tests import it
    warnings.simplefilter("ignore", RuntimeWarning)
    import zymkey

URL_VARIABLE = "ZYMKEY_SOFTSCM_URL"


@pytest.fixture(scope="module")
def scmd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    root = tmp_path_factory.mktemp("compat")
    daemon = Daemon(root / "scm", root / "scm.sock", env=dict(os.environ)).start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def zk(scmd: Daemon) -> Iterator[zymkey.Zymkey]:
    saved = os.environ.get(URL_VARIABLE)
    os.environ[URL_VARIABLE] = scmd.url
    try:
        client = zymkey.Zymkey()
    finally:
        if saved is None:
            del os.environ[URL_VARIABLE]
        else:
            os.environ[URL_VARIABLE] = saved
    yield client
    client.close()


def return_code(error: AssertionError) -> int:
    """The negative return code an AssertionError's message carries."""
    text = str(error)
    assert text.startswith("bad return code -"), text
    return int(text.removeprefix("bad return code ").split(":")[0])
