"""softscm's PKCS#11 module (``libsoftscm-pkcs11.so``): the module's keys as PKCS#11 objects for
OpenSSL, OpenSSH, GnuTLS, p11-kit and every other PKCS#11 application.

Host side: the library talks to scmd through :class:`softscm.host.client.Client`. Built by
:mod:`softscm.pkcs11.build`; the C entry points are in :mod:`softscm.pkcs11.glue`, the object and
session mapping in :mod:`~softscm.pkcs11.library`, :mod:`~softscm.pkcs11.session`,
:mod:`~softscm.pkcs11.token` and :mod:`~softscm.pkcs11.objects`.
"""
