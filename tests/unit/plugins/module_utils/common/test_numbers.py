"""The one whole-number check every module asks (module_utils/_common/numbers.py)."""

import pytest

from ansible_collections.accelci.runners.plugins.module_utils._common.errors import InputError
from ansible_collections.accelci.runners.plugins.module_utils._common.numbers import whole_number
from ansible_collections.accelci.runners.plugins.module_utils.gke.catalog import AcceleratorError


@pytest.mark.parametrize("value, expected", [(0, 0), (7, 7), ("7", 7), (" 12 ", 12), ("+3", 3)])
def test_whole_numbers_and_their_text_are_accepted(value, expected):
    assert whole_number("f", value) == expected


@pytest.mark.parametrize("value, low, high, message", [
    (True, 0, None, "f: True is not a whole number; accepted: 0 or more"),
    (7.5, 0, None, "f: 7.5 is not a whole number; accepted: 0 or more"),
    ("many", 0, None, "f: 'many' is not a whole number; accepted: 0 or more"),
    (None, 0, None, "f: None is not a whole number; accepted: 0 or more"),
    (-1, 0, None, "f: -1 is negative; accepted: 0 or more"),
    (0, 1, None, "f: 0 is too small; accepted: 1 or more"),
    (10 ** 12, 0, 1000, "f: 1000000000000 is too large; accepted: a whole number from 0 to 1000"),
])
def test_anything_else_is_refused_naming_the_field_and_the_range(value, low, high, message):
    with pytest.raises(InputError) as caught:
        whole_number("f", value, low=low, high=high)
    assert caught.value.field == "f"
    assert str(caught.value) == message


def test_the_caller_chooses_the_error_type():
    with pytest.raises(AcceleratorError):
        whole_number("autoscaling.max_nodes", "x", error=AcceleratorError)
