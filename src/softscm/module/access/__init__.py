"""Who may use the module: enrolled channel clients (and, later, identities, roles and PINs)."""
