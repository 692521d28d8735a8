"""softscm: a software Secure Compute Module."""

from .wire.defs import KdfType, KeyType, LockKey
from .wire.errors import ScmError

__version__ = "0.1.0"

__all__ = ["KdfType", "KeyType", "LockKey", "ScmError", "__version__"]
