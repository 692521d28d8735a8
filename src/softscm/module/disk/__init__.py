"""Disk encryption custody on the module side: volume keys the module makes, seals and releases."""

from .custody import DiskBlob, DiskCustody

__all__ = ["DiskBlob", "DiskCustody"]
