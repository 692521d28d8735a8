"""The module side: everything inside the security boundary."""
