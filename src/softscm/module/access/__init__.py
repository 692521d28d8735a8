"""Access control: who is calling, what role they have, which keys they may use; and the
enrolled channel clients (``clients``)."""
