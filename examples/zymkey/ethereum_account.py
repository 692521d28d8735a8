#!/usr/bin/env python3
"""An Ethereum account in a BIP39 wallet: derive m/44'/60'/0'/0/i, sign a Keccak-256 digest with
its recovery id, and recover the signer's address from the signature alone."""

import coincurve
from Crypto.Hash import keccak

import zymkey


def keccak256(data):
    return keccak.new(data=data, digest_bits=256).digest()


def address(raw_public_key):
    return "0x" + keccak256(bytes(raw_public_key))[-20:].hex()


wallet_name = "eth-example-" + zymkey.client.get_random(4).hex()
master, mnemonic = zymkey.client.gen_wallet_master_seed("secp256k1", "", wallet_name,
                                                        zymkey.RecoveryStrategyBIP39())
print("wallet %s in slot %d; write down the %d-word mnemonic" % (wallet_name, master, len(mnemonic.split())))

node = master
for index in (44, 60, 0):  # m/44'/60'/0'
    node = zymkey.client.gen_wallet_child_key(node, index, True)
external = zymkey.client.gen_wallet_child_key(node, 0, False)  # m/44'/60'/0'/0

for i in range(3):
    slot = zymkey.client.gen_wallet_child_key(external, i, False)
    node_addr, _, _ = zymkey.client.get_wallet_node_addr(slot)
    account = address(zymkey.client.get_public_key(slot))
    text = b"hello from account %d" % i
    digest = keccak.new(digest_bits=256)
    digest.update(b"\x19Ethereum Signed Message:\n" + str(len(text)).encode() + text)
    signature, recovery_id = zymkey.client.sign_digest(digest, slot=slot, return_recid=True)
    v = 27 + recovery_id.value
    recovered = coincurve.PublicKey.from_signature_and_message(bytes(signature) + bytes([recovery_id.value]),
                                                               digest.digest(), hasher=None)
    signer = address(recovered.format(compressed=False)[1:])
    print("%s %s v=%d recovered %s matches: %s" % (node_addr, account, v, signer, signer == account))

zymkey.client.remove_key(master)
