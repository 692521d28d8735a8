"""The module's sealed audit log (writer); the format is :mod:`softscm.sealedlog`."""
