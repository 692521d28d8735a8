"""One exception class per error code, mapped both ways."""

from __future__ import annotations

import pytest

from softscm.wire import errors
from softscm.wire.defs import ErrorCode


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: c.name)
def test_every_code_has_one_class_and_maps_back(code):
    error = errors.error_for_code(int(code), "detail")
    assert error.code is code
    assert isinstance(error, errors.ScmError)
    assert error.message == "detail"
    classes = [c for c in _all_classes() if c.code is code]
    assert len(classes) == 1, classes


def _all_classes():
    pending, seen = [errors.ScmError], []
    while pending:
        cls = pending.pop()
        seen.append(cls)
        pending.extend(cls.__subclasses__())
    return [c for c in seen if c.__module__ == errors.__name__]


def test_unknown_code_becomes_a_plain_scm_error():
    error = errors.error_for_code(9999, "from the future")
    assert type(error) is errors.ScmError
    assert "9999" in str(error)


def test_every_error_class_is_exported_from_the_package():
    import softscm

    for cls in _all_classes():
        assert getattr(softscm, cls.__name__, None) is cls, cls.__name__
        assert cls.__name__ in softscm.__all__
