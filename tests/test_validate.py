"""One validator per kind of input, one message each."""

from __future__ import annotations

import numpy as np
import pytest

from sparkexp import validate
from sparkexp.errors import ConfigError


@pytest.mark.parametrize("call, expected", [
    (lambda: validate.whole_number("n", np.int64(3)), 3),
    (lambda: validate.whole_number("n", 0, minimum=0), 0),
    (lambda: validate.optional_whole_number("n", None), None),
    (lambda: validate.seconds("t", 1), 1.0),
    (lambda: validate.number("x", np.float32(0.5)), 0.5),
    (lambda: validate.direction("MIN"), "min"),
    (lambda: validate.metric("acc"), "acc"),
    (lambda: validate.flag("f", False), False),
])
def test_good_values_come_back_normalised(call, expected):
    got = call()
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("call, message", [
    (lambda: validate.whole_number("n", True), "n must be a positive whole number, got True"),
    (lambda: validate.whole_number("n", 1.0), "n must be a positive whole number, got 1.0"),
    (lambda: validate.whole_number("n", 1, minimum=2, owner="ASHA"),
     "ASHA: n must be a whole number >= 2, got 1"),
    (lambda: validate.whole_number("n", -1, minimum=0, none_ok=True),
     "n must be a whole number >= 0 or None, got -1"),
    (lambda: validate.seconds("t", 0), "t must be a positive number of seconds, got 0"),
    (lambda: validate.number("x", "1"), "x must be a number, got '1'"),
    (lambda: validate.direction(None), "direction must be 'max' or 'min', got None"),
    (lambda: validate.metric(" "), "metric must be the name of an output"),
    (lambda: validate.flag("f", 1), "f must be True or False, got 1"),
])
def test_bad_values_name_the_input_and_what_is_accepted(call, message):
    with pytest.raises(ConfigError) as info:
        call()
    assert str(info.value).startswith(message)
