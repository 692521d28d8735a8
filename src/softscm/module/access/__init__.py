"""Who may use the module: callers and their roles, key grants and the PIN (control), and the
clients enrolled for the encrypted channel (clients)."""
