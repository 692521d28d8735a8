"""The wallet core: BIP32/SLIP-10 derivation, BIP39 mnemonics, SLIP-39 sessions. Pure: no I/O,
randomness injected."""
