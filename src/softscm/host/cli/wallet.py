"""scmctl wallet: HD wallets and SLIP-39 backups. Secrets are prompted, never taken from argv."""

from __future__ import annotations

import sys
from typing import Any

import click

from ...wire.defs import Bip39Language, KeyType
from .. import addresses
from ..client import Client
from .context import Cli, pass_cli, read_secret
from .params import WALLET_KEY_TYPE

WALLET_TYPE_HELP = f"The curve: {WALLET_KEY_TYPE.choices()}."
LANGUAGES = click.Choice([language.label for language in Bip39Language], case_sensitive=False)
VARIANTS = {"standard": "", "cardano": "cardano"}
variant_option = click.option(
    "--variant", type=click.Choice(list(VARIANTS)), default="standard", show_default=True,
    help="cardano (ed25519): Icarus master key and BIP32-Ed25519 derivation.")

@click.group()
def wallet() -> None:
    """HD wallets (BIP32/39/44, SLIP-10) and Shamir backups (SLIP-39)."""

@wallet.command()
@click.argument("name")
@click.option("--type", "key_type", type=WALLET_KEY_TYPE, default="secp256k1", show_default=True,
              help=WALLET_TYPE_HELP)
@click.option("--bip39", is_flag=True, help="Back the wallet with a 24-word mnemonic, shown once.")
@click.option("--language", type=LANGUAGES, default="english", show_default=True,
              help="The official BIP39 word list of the mnemonic.")
@click.option("--passphrase", "ask_passphrase", is_flag=True, help="Prompt for a BIP39 passphrase.")
@variant_option
@pass_cli
def create(cli: Cli, name: str, key_type: KeyType, bip39: bool, language: str, ask_passphrase: bool,
           variant: str) -> None:
    """Create a wallet."""
    passphrase = read_secret("BIP39 passphrase", confirm=True) if ask_passphrase else ""
    slot, mnemonic = cli.client().create_wallet(key_type, name, bip39=bip39, passphrase=passphrase,
                                                language=language, variant=VARIANTS[variant])
    human = f"wallet {name!r}: master slot {slot}"
    if mnemonic:
        human += f"\nWrite these words down; they will not be shown again:\n{mnemonic}"
    cli.emit({"name": name, "master_slot": slot, "mnemonic": mnemonic}, human=human)

@wallet.command()
@click.argument("name")
@click.option("--type", "key_type", type=WALLET_KEY_TYPE, default="secp256k1", show_default=True,
              help=WALLET_TYPE_HELP)
@click.option("--language", type=LANGUAGES, default=None,
              help="Accept only this BIP39 word list (default: any official one).")
@click.option("--passphrase", "ask_passphrase", is_flag=True, help="Prompt for the BIP39 passphrase.")
@variant_option
@pass_cli
def restore(cli: Cli, name: str, key_type: KeyType, language: str | None, ask_passphrase: bool,
            variant: str) -> None:
    """Restore a wallet from its BIP39 mnemonic (prompted, or one line on stdin), in any official
    word list."""
    mnemonic = read_secret("Mnemonic")
    passphrase = read_secret("BIP39 passphrase") if ask_passphrase else ""
    slot = cli.client().restore_wallet_bip39(key_type, name, mnemonic, passphrase=passphrase, language=language,
                                             variant=VARIANTS[variant])
    cli.emit({"name": name, "master_slot": slot}, human=f"wallet {name!r} restored: master slot {slot}")

def _master_slot(scm: Client, name: str) -> int:
    """The master slot of wallet ``name``. :raises click.UsageError: if there is no such wallet."""
    master = next((w.master_slot for w in scm.list_wallets() if w.name == name), None)
    if master is None:
        raise click.UsageError(f"no wallet named {name!r}")
    return int(master)

@wallet.command()
@click.argument("name")
@click.argument("path")
@pass_cli
def derive(cli: Cli, name: str, path: str) -> None:
    """Derive PATH (e.g. "m/44'/60'/0'/0/0") in wallet NAME; prints the slot, public key and, for a
    secp256k1 wallet, the address the path stands for (m/44'/60': Ethereum, m/44'/0': P2PKH,
    m/84'/0': P2WPKH) and the xpub of the deepest hardened node on the path."""
    scm = cli.client()
    master = _master_slot(scm, name)
    slot = scm.derive_wallet_path(master, path)
    public = scm.get_public_key(slot)
    data: dict[str, Any] = {"slot": slot, "node_addr": path, "public_key": public}
    if scm.get_wallet_node(slot).key_type is KeyType.SECP256K1:
        data["address"] = addresses.address_for_path(path, public)
        data["xpub_node"], data["xpub"] = _hardened_xpub(scm, master, path)
    cli.emit(data, human=lambda d: cli.fields(None, [(k.replace("_", " "), v) for k, v in d.items()
                                                     if v is not None]))


def _hardened_xpub(scm: Client, master: int, path: str) -> tuple[str | None, str | None]:
    """The xpub of the deepest hardened node on ``path`` (the module hands out hardened nodes'
    chain codes only), with that node's path; ``(None, None)`` if the path has none."""
    steps = addresses.parse_path(path)
    depth = max((i + 1 for i, step in enumerate(steps) if step.hardened), default=0)
    if depth == 0:
        return None, None
    node_steps, parent_steps = steps[:depth], steps[:depth - 1]
    parent = scm.derive_wallet_path(master, addresses.format_path(parent_steps)) if parent_steps else master
    node = scm.derive_wallet_key(parent, node_steps[-1].index, hardened=True, return_chain_code=True)
    assert node.chain_code is not None  # a hardened node's chain code is always returned when asked
    testnet = len(steps) > 1 and steps[1] == addresses.Step(addresses.COIN_TESTNET, True)
    xpub = addresses.serialize_xpub(scm.get_public_key(node.slot), node.chain_code, node_steps,
                                    scm.get_public_key(parent), testnet=testnet)
    return addresses.format_path(node_steps), xpub

@wallet.command("list")
@pass_cli
def list_wallets(cli: Cli) -> None:
    """Every wallet with its master slot and node count."""
    wallets = cli.client().list_wallets()
    cli.emit(wallets, human=lambda ws: cli.table(None, ["name", "type", "master", "nodes", "watch-only"], [
        (w.name, w.key_type.label, w.master_slot, w.nodes, w.watch_only) for w in ws]))

@wallet.command()
@click.argument("slot", type=int)
@pass_cli
def show(cli: Cli, slot: int) -> None:
    """Which wallet and node a slot holds."""
    node = cli.client().get_wallet_node(slot)
    cli.emit(node, human=f"slot {slot}: {node.node_addr} in {node.wallet_name!r} (master slot {node.master_slot})")

@wallet.command()
@click.argument("name")
@click.option("--yes", is_flag=True)
@pass_cli
def rm(cli: Cli, name: str, yes: bool) -> None:
    """Remove a wallet and every key derived in it."""
    scm = cli.client()
    master = _master_slot(scm, name)
    if not yes:
        click.confirm(f"Remove wallet {name!r} and all its keys for good?", abort=True)
    scm.remove_key(master)
    cli.emit({"removed": name}, human=f"removed wallet {name!r}")

@wallet.group()
def slip39() -> None:
    """Shamir backups (SLIP-39), up to 16 groups of 16 members."""

@slip39.command("create")
@click.argument("name")
@click.option("--type", "key_type", type=WALLET_KEY_TYPE, default="secp256k1", show_default=True,
              help=WALLET_TYPE_HELP)
@click.option("--group-threshold", type=click.IntRange(1, 16), required=True)
@click.option("--group", "groups", multiple=True, required=True, metavar="THRESHOLD/COUNT",
              help="One per group, e.g. --group 2/3 --group 3/5.")
@click.option("--iteration-exponent", type=click.IntRange(0, 5), default=1, show_default=True)
@click.option("--passphrase", "ask_passphrase", is_flag=True, help="Prompt for the set's passphrase.")
@click.option("--member-passwords", is_flag=True,
              help="Prompt for each member's own password (empty: a standard share); see docs/zymkey.md.")
@variant_option
@pass_cli
def slip39_create(cli: Cli, name: str, key_type: KeyType, group_threshold: int, groups: tuple[str, ...],
                  iteration_exponent: int, ask_passphrase: bool, member_passwords: bool, variant: str) -> None:
    """Create a wallet backed by SLIP-39 shares, shown one at a time."""
    layout = []
    for text in groups:
        try:
            threshold, count = (int(x) for x in text.split("/"))
        except ValueError:
            raise click.BadParameter(f"--group takes THRESHOLD/COUNT, not {text!r}") from None
        layout.append((threshold, count))
    passphrase = read_secret("SLIP-39 passphrase", confirm=True) if ask_passphrase else ""
    scm = cli.client()
    scm.slip39_generate(key_type, name, group_threshold=group_threshold, group_count=len(layout),
                        iteration_exponent=iteration_exponent, passphrase=passphrase, variant=VARIANTS[variant])
    try:
        for index, (threshold, count) in enumerate(layout):
            scm.slip39_set_group(index, count, threshold)
        shares = []
        slot = -1
        for index, (_, count) in enumerate(layout):
            for member in range(count):
                password = (read_secret(f"Password of group {index + 1} member {member + 1}", confirm=True)
                            if member_passwords else "")
                slot, share = scm.slip39_next_share(password)
                if cli.as_json:
                    shares.append({"group": index, "member": member, "mnemonic": share})
                else:
                    click.echo(f"group {index + 1} member {member + 1}:\n  {share}")
                    if not sys.stdin.isatty():
                        continue
                    click.pause("Press any key for the next share...")
                    click.clear()
    except BaseException:
        scm.slip39_cancel()
        raise
    cli.emit({"name": name, "master_slot": slot, "shares": shares}, human=f"wallet {name!r}: master slot {slot}")

@slip39.command("restore")
@click.argument("name")
@click.option("--type", "key_type", type=WALLET_KEY_TYPE, default="secp256k1", show_default=True,
              help=WALLET_TYPE_HELP)
@click.option("--passphrase", "ask_passphrase", is_flag=True, help="Prompt for the set's passphrase.")
@click.option("--member-passwords", is_flag=True, help="Prompt for each share's member password (empty: none).")
@variant_option
@pass_cli
def slip39_restore(cli: Cli, name: str, key_type: KeyType, ask_passphrase: bool, member_passwords: bool,
                   variant: str) -> None:
    """Restore a wallet from SLIP-39 shares, entered one at a time in any order."""
    from ...wire.errors import MnemonicError

    passphrase = read_secret("SLIP-39 passphrase") if ask_passphrase else ""
    scm = cli.client()
    scm.slip39_restore(key_type, name, passphrase=passphrase, variant=VARIANTS[variant])
    slot, missing = -1, "no share has been given yet"
    try:
        while slot == -1:
            share = read_secret("Share")
            if not share:
                raise click.ClickException(f"no more shares; nothing was restored; still missing: {missing}")
            password = read_secret("Member password") if member_passwords else ""
            try:
                added = scm.slip39_add(share, password)
            except MnemonicError as exc:
                click.echo(f"share refused: {exc.message}", err=True)
                continue
            slot, missing = added.slot, added.missing
            if slot == -1:
                click.echo(f"share accepted; still missing: {missing}", err=True)
    except BaseException:
        scm.slip39_cancel()
        raise
    cli.emit({"name": name, "master_slot": slot}, human=f"wallet {name!r} restored: master slot {slot}")
