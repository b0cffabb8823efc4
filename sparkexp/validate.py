"""Input validators: each check, and each error message, written once.

Every entry point, the options object and the CLI call these, so the same bad value gets the
same one-line :class:`~sparkexp.errors.ConfigError` wherever it is given. Each returns the value
normalised (an ``int``, a ``float``, ``"max"``...).

Example:
    >>> whole_number("max_parallel", 4), seconds("timeout", 2), direction("MAX")
    (4, 2.0, 'max')
    >>> whole_number("max_parallel", 0)
    Traceback (most recent call last):
    ...
    sparkexp.errors.ConfigError: max_parallel must be a positive whole number, got 0
    >>> whole_number("max_trial_retries", -1, minimum=0)
    Traceback (most recent call last):
    ...
    sparkexp.errors.ConfigError: max_trial_retries must be a whole number >= 0, got -1
"""

from __future__ import annotations

import numbers
from typing import Any

from sparkexp.errors import ConfigError

__all__ = ["whole_number", "optional_whole_number", "number", "seconds", "direction", "metric",
           "metrics", "directions", "flag"]


def whole_number(name: str, value: Any, *, minimum: int = 1, owner: str | None = None,
                 none_ok: bool = False) -> int:
    """``value`` as an int when it is a whole number >= ``minimum`` (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        kind = ("a positive whole number" if minimum == 1
                else f"a whole number >= {minimum}")
        prefix = f"{owner}: " if owner else ""
        alternative = " or None" if none_ok else ""
        raise ConfigError(f"{prefix}{name} must be {kind}{alternative}, got {value!r}")
    return int(value)


def optional_whole_number(name: str, value: Any, *, minimum: int = 1) -> int | None:
    """:func:`whole_number`, with None passed through."""
    return None if value is None else whole_number(name, value, minimum=minimum)


def number(name: str, value: Any) -> float | None:
    """A real number as a float (None passed through)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    return float(value)


def seconds(name: str, value: Any) -> float | None:
    """A positive number of seconds as a float (None passed through)."""
    value_s = number(name, value)
    if value_s is not None and value_s <= 0:
        raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
    return value_s


def direction(value: Any) -> str:
    """``"max"`` or ``"min"`` (any case, or an enum whose value is one of them)."""
    text = str(getattr(value, "value", value)).lower() if value is not None else ""
    if text not in ("max", "min"):
        raise ConfigError(f"direction must be 'max' or 'min', got {value!r}")
    return text


def metric(value: Any) -> str | None:
    """The name of the output to optimise, or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"metric must be the name of an output (a non-empty string) or None, got {value!r}")
    return value


def metrics(value: Any) -> tuple[str, ...]:
    """Several objectives' output names: a list of 2 or more distinct non-empty strings.

    >>> metrics(["accuracy", "latency"])
    ('accuracy', 'latency')
    """
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or len(value) < 2:
        raise ConfigError(f"several objectives need metric= as a list of 2 or more output names, "
                          f"got {value!r}")
    names: list[str] = []
    for m in value:
        if not isinstance(m, str) or not m.strip():
            raise ConfigError(f"metric names must be non-empty strings, got {m!r} in {list(value)!r}")
        if m in names:
            raise ConfigError(f"metric {m!r} is listed twice in {list(value)!r}")
        names.append(m)
    return tuple(names)


def directions(value: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    """One direction per objective in ``names``: one given for all, or a list of one each.

    >>> directions("min", ("a", "b")), directions(["max", "min"], ("a", "b"))
    (('min', 'min'), ('max', 'min'))
    """
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ConfigError(f"{len(value)} directions {list(value)!r} for {len(names)} metrics "
                              f"{list(names)!r}; give one per metric")
        return tuple(direction(d) for d in value)
    return (direction(value),) * len(names)


def flag(name: str, value: Any) -> bool:
    """True or False, nothing else (``"false"`` is not False)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    return value
