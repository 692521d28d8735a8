#!/usr/bin/env python3
"""A SLIP-39 backup in 3 groups (any 2 restore it), some members with their own passwords; then a
restore from shares given in a shuffled order."""

import random

import zymkey

suffix = zymkey.client.get_random(4).hex()
groups = [  # (member count, member threshold, each member's password)
    (1, 1, ["owner-pw"]),
    (3, 2, ["", "bob-pw", "carol-pw"]),
    (5, 3, ["", "", "dave-pw", "", "erin-pw"]),
]

strategy = zymkey.RecoveryStrategySLIP39(group_count=3, group_threshold=2, iteration_exponent=0)
zymkey.client.gen_wallet_master_seed("ed25519", "", "vault-" + suffix, strategy)
shares = []
for index, (count, threshold, passwords) in enumerate(groups):
    zymkey.client.set_gen_SLIP39_group_info(index, count, threshold)
    for member, password in enumerate(passwords):
        ret, mnemonic = zymkey.client.add_gen_SLIP39_member_pwd(password)
        shares.append((index, member, mnemonic, password))
        print("group %d member %d: %d-word share%s" % (index, member, len(mnemonic.split()),
                                                       " (password)" if password else ""))
master = ret
print("wallet created in slot", master)

chosen = [s for s in shares if s[0] == 1][:2] + [s for s in shares if s[0] == 2][1:4]
random.shuffle(chosen)
zymkey.client.restore_wallet_master_seed("ed25519", "", "vault-restored-" + suffix, strategy)
for group, member, mnemonic, password in chosen:
    ret = zymkey.client.add_restore_SLIP39_mnemonic(mnemonic, password)
    print("added group %d member %d -> %d" % (group, member, ret))
restored = ret

original = zymkey.client.get_public_key(zymkey.client.gen_wallet_child_key(master, 0, True))
again = zymkey.client.get_public_key(zymkey.client.gen_wallet_child_key(restored, 0, True))
print("restored wallet in slot %d; same keys: %s" % (restored, original == again))
zymkey.client.remove_key(master)
zymkey.client.remove_key(restored)
