"""Access control: who is calling, what role they have, which keys they may use."""
