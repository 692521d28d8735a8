"""Where the built PKCS#11 library lives (importable without cffi, for ``scmctl pkcs11 path``)."""

from __future__ import annotations

import sys
from pathlib import Path

LIBRARY_NAME = "libsoftscm-pkcs11.so"


def library_path() -> Path:
    """The library built for this environment: ``<sys.prefix>/lib/softscm/libsoftscm-pkcs11.so``
    (in a development checkout, inside ``.venv``). ``python -m softscm.pkcs11.build`` makes it."""
    return Path(sys.prefix) / "lib" / "softscm" / LIBRARY_NAME
