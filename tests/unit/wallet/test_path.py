"""Node addresses: parsing, canonical text, rejection of malformed addresses."""

from __future__ import annotations

import pytest

from softscm.module.wallet.path import HARDENED, PathStep, format_path, parse_path
from softscm.wire.errors import InvalidArgumentError


@pytest.mark.parametrize("text,steps", [
    ("m", ()),
    ("m/0", (PathStep(0, False),)),
    ("m/44'/60'/0'/0/3", (PathStep(44, True), PathStep(60, True), PathStep(0, True), PathStep(0, False),
                          PathStep(3, False))),
    ("m/2147483647'", (PathStep(2**31 - 1, True),)),
], ids=["root", "one-step", "bip44", "largest-index"])
def test_parse_and_format_round_trip(text, steps):
    assert parse_path(text) == steps
    assert format_path(steps) == text


@pytest.mark.parametrize("text,canonical", [("m/0h/1H/2", "m/0'/1'/2"), ("  m/5'  ", "m/5'")],
                         ids=["h-and-H-markers", "surrounding-space"])
def test_alternative_spellings_normalise(text, canonical):
    assert format_path(parse_path(text)) == canonical


def test_raw_index_sets_the_hardened_bit():
    assert PathStep(5, True).raw_index == HARDENED | 5
    assert PathStep(5, False).raw_index == 5


@pytest.mark.parametrize("text", [
    "", "M/0", "n/0", "m/", "m//1", "m/-1", "m/1''", "m/a", "m/01", "m/2147483648", "m/0x10", "0/1",
    "m/" + "/".join(["1"] * 256),
], ids=["empty", "capital-M", "not-m", "trailing-slash", "empty-step", "negative", "double-mark",
        "letters", "leading-zero", "index-2^31", "hex", "no-root", "256-levels"])
def test_bad_addresses_raise(text):
    with pytest.raises(InvalidArgumentError):
        parse_path(text)


def test_255_levels_is_the_limit_that_parses():
    assert len(parse_path("m/" + "/".join(["1"] * 255))) == 255
