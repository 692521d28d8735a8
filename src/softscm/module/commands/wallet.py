"""HD wallets: thin handlers over :class:`~softscm.module.wallet.service.WalletService`."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ...wire.messages import Done
from ...wire.messages.keys import SlotReply
from ...wire.messages.wallet import (
    DerivedKey,
    Share,
    Slip39AddShareRequest,
    Slip39CancelRequest,
    Slip39GenerateRequest,
    Slip39NextShareRequest,
    Slip39RestoreRequest,
    Slip39SetGroupRequest,
    Slip39ShareAdded,
    WalletCreated,
    WalletCreateRequest,
    WalletDeriveRequest,
    WalletFindSlotRequest,
    WalletList,
    WalletListRequest,
    WalletNode,
    WalletNodeRequest,
    WalletOversightRequest,
    WalletRestoreBip39Request,
    WalletSummary,
)
from ..dispatch import Route, route, slot_of
from ..offload import Step, Stepped, stepped
from ..wallet import path, slip39
from ..wallet.service import WalletService


class WalletCommands:
    def __init__(self, wallets: WalletService) -> None:
        self._wallets = wallets

    def routes(self) -> list[Route]:
        return [
            route(WalletCreateRequest, self.create, creates=slot_of),
            route(WalletRestoreBip39Request, self.restore_bip39, creates=slot_of),
            route(Slip39GenerateRequest, self.slip39_generate),
            route(Slip39SetGroupRequest, self.slip39_set_group),
            route(Slip39NextShareRequest, self.slip39_next_share, creates=slot_of),
            route(Slip39RestoreRequest, self.slip39_restore),
            route(Slip39AddShareRequest, self.slip39_add, creates=slot_of),
            route(Slip39CancelRequest, self.slip39_cancel),
            route(WalletDeriveRequest, self.derive, uses=lambda request: (request.parent_slot,), creates=slot_of),
            route(WalletOversightRequest, self.oversight, creates=slot_of),
            route(WalletNodeRequest, self.node_info),
            route(WalletFindSlotRequest, self.find_slot),
            route(WalletListRequest, self.list_wallets),
        ]

    def create(self, request: WalletCreateRequest) -> WalletCreated:
        slot, mnemonic = self._wallets.create(request.wallet, request.source, passphrase=request.passphrase,
                                              seed=request.seed, language=request.language)
        return WalletCreated(slot, mnemonic)

    def restore_bip39(self, request: WalletRestoreBip39Request) -> SlotReply:
        return SlotReply(self._wallets.restore_bip39(request.wallet, request.mnemonic, request.passphrase,
                                                     request.language))

    def slip39_generate(self, request: Slip39GenerateRequest) -> Done | Stepped:
        """Open a generation session; its PBKDF2 runs off the loop (see :func:`~..offload.stepped`)."""
        return stepped(self._slip39_generate(request))

    def _slip39_generate(self, request: Slip39GenerateRequest) -> Generator[Step, Any, Done]:
        rng = self._wallets.rng
        yield from self._wallets.slip39_generate(request.wallet, lambda: slip39.Slip39Generation.start(
            group_threshold=request.group_threshold, group_count=request.group_count,
            iteration_exponent=request.iteration_exponent, passphrase=request.passphrase.encode(),
            extendable=request.extendable, rng=rng))
        return Done()

    def slip39_set_group(self, request: Slip39SetGroupRequest) -> Done:
        self._wallets.slip39_set_group(request.group_index, request.member_count, request.member_threshold)
        return Done()

    def slip39_next_share(self, request: Slip39NextShareRequest) -> Share | Stepped:
        return stepped(self._slip39_next_share(request))

    def _slip39_next_share(self, request: Slip39NextShareRequest) -> Generator[Step, Any, Share]:
        slot, mnemonic = yield from self._wallets.slip39_next_share(request.passphrase.encode())
        return Share(slot, mnemonic)

    def slip39_restore(self, request: Slip39RestoreRequest) -> Done:
        self._wallets.slip39_restore(request.wallet, request.passphrase.encode())
        return Done()

    def slip39_add(self, request: Slip39AddShareRequest) -> Slip39ShareAdded | Stepped:
        return stepped(self._slip39_add(request))

    def _slip39_add(self, request: Slip39AddShareRequest) -> Generator[Step, Any, Slip39ShareAdded]:
        return Slip39ShareAdded(*(yield from self._wallets.slip39_add(request.mnemonic, request.passphrase.encode())))

    def slip39_cancel(self, request: Slip39CancelRequest) -> Done:
        self._wallets.slip39_cancel()
        return Done()

    def derive(self, request: WalletDeriveRequest) -> DerivedKey:
        if request.path is not None:
            derived = self._wallets.derive(request.parent_slot, request.path)
        else:
            derived = self._wallets.derive(request.parent_slot, (path.PathStep(request.index or 0, request.hardened),))
        return DerivedKey(derived.slot, derived.node_addr, derived.chain_code if request.return_chain_code else None)

    def oversight(self, request: WalletOversightRequest) -> SlotReply:
        return SlotReply(self._wallets.oversight(request.wallet, request.node_addr, xpub=request.xpub,
                                                 public_key=request.public_key, chain_code=request.chain_code))

    def node_info(self, request: WalletNodeRequest) -> WalletNode:
        record, wallet = self._wallets.node(request.slot)
        return WalletNode(record.node_addr or "m", wallet.name, wallet.master_slot, record.key_type, wallet.watch_only)

    def find_slot(self, request: WalletFindSlotRequest) -> SlotReply:
        return SlotReply(self._wallets.find_slot(request.node_addr, wallet_name=request.wallet_name,
                                                 master_slot=request.master_slot))

    def list_wallets(self, request: WalletListRequest) -> WalletList:
        return WalletList(tuple(WalletSummary(w.name, w.key_type, w.master_slot, w.variant, w.watch_only, nodes)
                                for w, nodes in self._wallets.wallets()))
