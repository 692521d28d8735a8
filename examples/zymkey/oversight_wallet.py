#!/usr/bin/env python3
"""A watch-only (oversight) wallet: export an account's extended public key (public key and chain
code) from a full wallet, build a public-only wallet from it, and derive receiving addresses that
match the full wallet's without any private key."""

from Crypto.Hash import keccak

import zymkey


def address(raw_public_key):
    return "0x" + keccak.new(data=bytes(raw_public_key), digest_bits=256).digest()[-20:].hex()


suffix = zymkey.client.get_random(4).hex()
master, _ = zymkey.client.gen_wallet_master_seed("secp256k1", "", "hot-" + suffix, zymkey.RecoveryStrategyBIP39())
purpose = zymkey.client.gen_wallet_child_key(master, 44, True)
coin = zymkey.client.gen_wallet_child_key(purpose, 60, True)
account, chain_code = zymkey.client.gen_wallet_child_key(coin, 0, True, return_chain_code=True)
account_public = zymkey.client.get_public_key(account)
print("account xpub parts: public key %d bytes, chain code %d bytes" % (len(account_public), len(chain_code)))

watch = zymkey.client.gen_oversight_wallet("secp256k1", account_public, chain_code, "m/44'/60'/0'", "watch-" + suffix)
print("oversight wallet in slot", watch, zymkey.client.get_wallet_node_addr(watch))
watch_external = zymkey.client.gen_wallet_child_key(watch, 0, False)
full_external = zymkey.client.gen_wallet_child_key(account, 0, False)
for i in range(3):
    watched = address(zymkey.client.get_public_key(zymkey.client.gen_wallet_child_key(watch_external, i, False)))
    full = address(zymkey.client.get_public_key(zymkey.client.gen_wallet_child_key(full_external, i, False)))
    print("m/44'/60'/0'/0/%d %s matches the full wallet: %s" % (i, watched, watched == full))
try:
    zymkey.client.gen_wallet_child_key(watch, 1, True)
except AssertionError:
    print("hardened child of a watch-only wallet refused")
zymkey.client.remove_key(watch)
zymkey.client.remove_key(master)
