"""Every method of the shared client API returns its call, so the async client awaits it, and
sends the request its command's contract names."""

from __future__ import annotations

import ast
import inspect

import pytest

from softscm.host import api
from softscm.wire.messages import CONTRACT, Request


@pytest.mark.parametrize("area", sorted(api.AREAS))
def test_no_method_drops_its_call(area):
    tree = ast.parse(inspect.getsource(inspect.getmodule(api.AREAS[area])))
    dropped = [node.lineno for node in ast.walk(tree)
               if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
               and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "_call"]
    assert dropped == []


def test_every_public_method_goes_through_call():
    class Recorder(api.ModuleApi):
        def _call(self, request, then):
            assert isinstance(request, Request) and CONTRACT[request.COMMAND][0] is type(request)
            return ("called", request.COMMAND)

    recorder = Recorder()
    calls = {
        "verify": (0, b"d", b"s"), "verify_public": ("ed25519", b"k", b"d", b"s"),
        "slip39_generate": ("secp256k1", "n"), "slip39_restore": ("secp256k1", "n"),
    }
    for name, args in calls.items():
        kwargs = {"group_threshold": 1, "group_count": 1} if name == "slip39_generate" else {}
        assert getattr(recorder, name)(*args, **kwargs)[0] == "called", name
