"""The `zymkey` surface, written from the compatibility reference (../shared/reference/zymkey-api.md,
copied into docs/zymkey.md): each method's parameters in order, with their defaults."""

from __future__ import annotations

METHODS = """
led_on()
led_off()
led_flash(on_ms, off_ms=0, num_flashes=0)
get_random(num_bytes)
create_random_file(file_path, num_bytes)
lock(src, dst=None, encryption_key='zymkey')
unlock(src, dst=None, encryption_key='zymkey', raise_exception=True)
sign(src, slot=0, return_recid=False, encoding='utf-8', digest=None)
sign_digest(digest, slot=0, return_recid=False)
verify(src, sig, raise_exception=True, pubkey_slot=0, foreign=False, encoding='utf-8', digest=None)
verify_digest(digest, sig, raise_exception=True, pubkey_slot=0, foreign=False)
ecdh(local_slot, peer_pubkey, kdf_func_type='none', salt=[], info=[], num_iterations=1, peer_pubkey_slot_is_foreign=True, derived_key_size=32)
gen_key_pair(key_type)
gen_ephemeral_key_pair(key_type)
invalidate_ephemeral_key()
get_public_key(slot=0, foreign=False)
get_ecdsa_public_key(slot=0)
create_public_key_file(filename, slot=0, foreign=False)
create_ecdsa_public_key_file(filename, slot=0)
get_slot_alloc_list(foreign=False)
store_foreign_public_key(key_type, pubkey)
disable_public_key_export(slot=0, foreign=False)
remove_key(slot, foreign=False)
gen_wallet_master_seed(key_type, master_gen_key, wallet_name, recovery_strategy=RecoveryStrategy())
set_gen_SLIP39_group_info(group_index, member_count, member_threshold)
add_gen_SLIP39_member_pwd(passphrase='')
cancel_SLIP39_session()
restore_wallet_master_seed(key_type, master_gen_key, wallet_name, recovery_strategy, mnemonics=None)
add_restore_SLIP39_mnemonic(mnemonic_sentence, passphrase='')
gen_wallet_child_key(parent_key_slot, index, hardened, return_chain_code=False)
gen_oversight_wallet(key_type, pub_key, chain_code, node_addr, wallet_name, variant='')
get_wallet_node_addr(slot)
get_wallet_key_slot(node_addr, wallet_name=None, master_seed_slot=None)
get_model_number()
get_firmware_version()
get_serial_number()
get_cpu_temp()
get_aux_temp(index=0)
get_rtc_drift()
get_batt_volt()
get_time(precise=False)
set_tap_sensitivity(axis='all', pct=50.0)
wait_for_tap(timeout_ms=-1)
get_accelerometer_data()
lock_binding()
get_current_binding_info()
set_perimeter_event_actions(channel, action_notify=True, action_self_destruct=False)
set_digital_perimeter_lp_period(lp_period)
set_digital_perimeter_lp_max_bits(max_num_bits)
set_digital_perimeter_delays(min_delay_ns, max_delay_ns)
wait_for_perimeter_event(timeout_ms=-1)
get_perimeter_detect_info()
clear_perimeter_detect_info()
set_battery_voltage_action(sleep=False, self_destruct=False)
set_battery_voltage_threshold(threshold)
set_cpu_temp_action(self_destruct=False)
set_cpu_low_temp_threshold(threshold)
set_cpu_high_temp_threshold(threshold)
set_supervised_boot_policy(policy_id=0)
add_or_update_supervised_boot_file(filepath='', slot=15)
remove_supervised_boot_file(filepath='')
get_supervised_boot_file_manifest()
add_or_update_verified_boot_file(slot, filepath)
get_verified_boot_file_manifest()
remove_verified_boot_file(filepath='')
"""

CLASSES = """
RecoveryStrategy(variant='')
RecoveryStrategyBIP39(variant='', passphrase='')
RecoveryStrategySLIP39(group_count, group_threshold, iteration_exponent, variant='', passphrase='')
DigestObject(src, encoding='utf-8', digest=None)
"""


def parse(table: str) -> dict[str, list[str]]:
    """``{name: ["param", "param=default", ...]}``."""
    result = {}
    for line in table.strip().splitlines():
        name, _, rest = line.partition("(")
        params = rest.removesuffix(")")
        result[name] = [p.strip() for p in params.split(", ")] if params else []
    return result
