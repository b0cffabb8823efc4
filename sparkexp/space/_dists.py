"""One-dimensional distributions: the primitives a search space is built from.

Every primitive maps the unit interval onto its values (``from_unit``) through its inverse CDF,
so sampling (``from_unit(rng.random())``), Latin-hypercube starts and differential evolution all
share one code path. ``to_unit`` goes back (to the middle of a category's interval for choices).

Example:
    >>> uniform(0, 10).from_unit(0.25)
    2.5
    >>> choice(["adam", "sgd"]).from_unit(0.9)
    'sgd'
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from sparkexp.errors import SearchSpaceError

__all__ = [
    "Dist",
    "Choice",
    "Uniform",
    "UniformInt",
    "QUniform",
    "LogUniform",
    "QLogUniform",
    "Normal",
    "QNormal",
    "LogNormal",
    "QLogNormal",
    "Fixed",
    "choice",
    "categorical",
    "uniform",
    "uniformint",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
    "fixed",
]

_STD_NORMAL = NormalDist()
# Keeps the inverse normal CDF finite at the ends of the unit interval.
_U_EPS = 1e-12


def _number(method: str, key: str, value: Any) -> float | int:
    """A finite real number (bools and strings refused), as a plain Python int or float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SearchSpaceError(
            f"{method}: {key} must be a number, got {value!r} ({type(value).__name__})"
        )
    if isinstance(value, numbers.Integral):
        return int(value)
    out = float(value)
    if not math.isfinite(out):
        raise SearchSpaceError(f"{method}: {key} must be finite, got {value!r}")
    return out


def _bounds(method: str, low: Any, high: Any) -> tuple[float | int, float | int]:
    lo, hi = _number(method, "low", low), _number(method, "high", high)
    if lo >= hi:
        raise SearchSpaceError(
            f"{method}: low must be below high, got low={lo!r} >= high={hi!r}"
        )
    return lo, hi


def _positive(method: str, key: str, value: Any) -> float | int:
    out = _number(method, key, value)
    if out <= 0:
        raise SearchSpaceError(f"{method}: {key} must be > 0, got {key}={out!r}")
    return out


def _base(method: str, base: Any) -> float:
    out = _number(method, "base", base)
    if out <= 0 or out == 1:
        raise SearchSpaceError(f"{method}: base must be > 0 and != 1, got base={out!r}")
    return float(out)


def _clean(value: float, q: float | int) -> float | int:
    """Round away float noise (``3 * 0.1 -> 0.3``); ints stay ints when q is an int."""
    if isinstance(q, int):
        return int(round(value))
    digits = max(0, 10 - math.floor(math.log10(abs(q))))
    return float(round(value, digits))


def _clip_unit(u: float) -> float:
    return min(max(float(u), 0.0), 1.0)


class Dist(ABC):
    """A one-dimensional distribution of hyperparameter values.

    Subclasses are frozen dataclasses, so two primitives with equal arguments compare equal.
    """

    #: Method name in the hpogrid JSON form (``{"method": ..., "dimension": {...}}``).
    method: str = "dist"

    @property
    def searchable(self) -> bool:
        """False for fixed values, which take no coordinate of the unit hypercube."""
        return True

    @abstractmethod
    def from_unit(self, u: float) -> Any:
        """The value at quantile ``u`` in [0, 1] of this distribution."""

    @abstractmethod
    def to_unit(self, value: Any) -> float:
        """A coordinate in [0, 1] that ``from_unit`` maps back to ``value``."""

    @abstractmethod
    def dimension(self) -> dict[str, Any]:
        """The arguments of this primitive (the ``dimension`` of the hpogrid form)."""

    def check(self, name: str, value: Any) -> Any:
        """``value`` if this distribution can produce it, else a SearchSpaceError naming it."""
        return value

    def key(self, value: Any) -> Any:
        """A hashable stand-in for ``value`` used to recognise repeated points."""
        return value

    def to_json(self) -> dict[str, Any]:
        """The hpogrid form: ``{"method": ..., "dimension": {...}}``."""
        return {"method": self.method, "dimension": self.dimension()}


def _same(a: Any, b: Any) -> bool:
    # 1 == 1.0 == True in Python; a choice between True and 1 must keep them apart.
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - exotic __eq__ (numpy arrays) means "not the same"
        return False


@dataclass(frozen=True)
class Choice(Dist):
    """One of ``options``, uniformly or with ``weights`` (probabilities summing to 1)."""

    options: tuple[Any, ...]
    weights: tuple[float, ...] | None = None
    method = "categorical"

    def __post_init__(self) -> None:
        if isinstance(self.options, (str, bytes)) or not isinstance(self.options, Sequence):
            raise SearchSpaceError(
                f"categorical: options must be a list of values, got {self.options!r}"
            )
        object.__setattr__(self, "options", tuple(_plain(o) for o in self.options))
        if not self.options:
            raise SearchSpaceError("categorical: options are empty, give at least one value")
        if self.weights is not None:
            w = tuple(float(_number("categorical", "weights", x)) for x in self.weights)
            if len(w) != len(self.options):
                raise SearchSpaceError(
                    f"categorical: {len(w)} weights for {len(self.options)} options "
                    f"{list(self.options)!r}; give one weight per option"
                )
            if any(x < 0 for x in w) or abs(sum(w) - 1.0) > 1e-6:
                raise SearchSpaceError(
                    f"categorical: weights must be >= 0 and sum to 1, got {list(w)!r} "
                    f"(sum {sum(w):g})"
                )
            object.__setattr__(self, "weights", w)

    def _cumulative(self) -> list[float]:
        n = len(self.options)
        w = self.weights or tuple(1.0 / n for _ in range(n))
        acc, out = 0.0, []
        for x in w:
            acc += x
            out.append(acc)
        out[-1] = 1.0
        return out

    def index_from_unit(self, u: float) -> int:
        """The option index at quantile ``u`` (each option owns an interval of its weight)."""
        u = _clip_unit(u)
        for i, c in enumerate(self._cumulative()):
            if u < c:
                return i
        return len(self.options) - 1

    def from_unit(self, u: float) -> Any:
        return self.options[self.index_from_unit(u)]

    def index(self, value: Any) -> int:
        """Position of ``value`` among the options; ValueError if it is not one of them."""
        for i, o in enumerate(self.options):
            if _same(o, value):
                return i
        for i, o in enumerate(self.options):
            if isinstance(o, numbers.Real) and isinstance(value, numbers.Real) and o == value:
                return i
        raise ValueError(value)

    def to_unit(self, value: Any) -> float:
        i = self.index(value)
        cum = self._cumulative()
        lo = cum[i - 1] if i else 0.0
        return (lo + cum[i]) / 2

    def check(self, name: str, value: Any) -> Any:
        try:
            return self.options[self.index(value)]
        except ValueError:
            raise SearchSpaceError(
                f"'{name}' = {value!r} is not one of the options {list(self.options)!r}"
            ) from None

    def key(self, value: Any) -> Any:
        return self.index(value)

    def dimension(self) -> dict[str, Any]:
        out: dict[str, Any] = {"categories": list(self.options)}
        if self.weights is not None:
            out["weights"] = list(self.weights)
        return out


def _plain(v: Any) -> Any:
    """numpy scalars become Python scalars so values serialise and compare plainly."""
    if type(v).__module__ == "numpy" and hasattr(v, "item") and getattr(v, "ndim", 1) == 0:
        return v.item()
    return v


class _Bounded(Dist):
    low: float | int
    high: float | int

    def check(self, name: str, value: Any) -> Any:
        v = _number(name, "value", value)
        if not self.low <= v <= self.high:
            raise SearchSpaceError(
                f"'{name}' = {value!r} is outside [{self.low!r}, {self.high!r}] of {self.method}"
            )
        return v


@dataclass(frozen=True)
class Uniform(_Bounded):
    """A float drawn uniformly from ``[low, high]``."""

    low: float
    high: float
    method = "uniform"

    def __post_init__(self) -> None:
        lo, hi = _bounds(self.method, self.low, self.high)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)

    def from_unit(self, u: float) -> float:
        return float(self.low + _clip_unit(u) * (self.high - self.low))

    def to_unit(self, value: Any) -> float:
        return _clip_unit((float(value) - self.low) / (self.high - self.low))

    def check(self, name: str, value: Any) -> Any:
        return float(super().check(name, value))

    def dimension(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}


@dataclass(frozen=True)
class UniformInt(_Bounded):
    """An int drawn uniformly from ``low, low + 1, ..., high`` (both ends included)."""

    low: int
    high: int
    method = "uniformint"

    def __post_init__(self) -> None:
        lo, hi = _bounds(self.method, self.low, self.high)
        for key, v in (("low", lo), ("high", hi)):
            if float(v) != int(v):
                raise SearchSpaceError(f"uniformint: {key} must be an integer, got {v!r}")
        object.__setattr__(self, "low", int(lo))
        object.__setattr__(self, "high", int(hi))

    def from_unit(self, u: float) -> int:
        n = self.high - self.low + 1
        return int(self.low + min(int(_clip_unit(u) * n), n - 1))

    def to_unit(self, value: Any) -> float:
        n = self.high - self.low + 1
        return _clip_unit((int(value) - self.low + 0.5) / n)

    def check(self, name: str, value: Any) -> Any:
        v = super().check(name, value)
        if float(v) != int(v):
            raise SearchSpaceError(f"'{name}' = {value!r} is not an integer (uniformint)")
        return int(v)

    def dimension(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}


def _quantise_bounded(x: float, low: float, high: float, q: float | int) -> float | int:
    k = round(x / q)
    k = min(max(k, math.ceil(low / q - 1e-9)), math.floor(high / q + 1e-9))
    return _clean(k * q, q)


def _check_grid(method: str, low: float, high: float, q: float | int) -> None:
    if math.ceil(low / q - 1e-9) > math.floor(high / q + 1e-9):
        raise SearchSpaceError(
            f"{method}: no multiple of q={q!r} lies in [{low!r}, {high!r}]; use a smaller q"
        )


@dataclass(frozen=True)
class QUniform(_Bounded):
    """A multiple of ``q`` in ``[low, high]``: ``round(uniform(low, high) / q) * q``.

    Unlike hyperopt's ``hp.quniform`` the result never leaves ``[low, high]`` (it snaps to the
    nearest multiple of ``q`` inside). Values are ints when ``q`` is an int.
    """

    low: float
    high: float
    q: float | int
    method = "quniform"

    def __post_init__(self) -> None:
        lo, hi = _bounds(self.method, self.low, self.high)
        q = _positive(self.method, "q", self.q)
        _check_grid(self.method, lo, hi, q)
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)
        object.__setattr__(self, "q", q)

    def from_unit(self, u: float) -> float | int:
        x = self.low + _clip_unit(u) * (self.high - self.low)
        return _quantise_bounded(x, self.low, self.high, self.q)

    def to_unit(self, value: Any) -> float:
        return _clip_unit((float(value) - self.low) / (self.high - self.low))

    def dimension(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "q": self.q}


class _LogBounded(_Bounded):
    base: float

    def _validate_log(self) -> None:
        lo, hi = _bounds(self.method, self.low, self.high)
        if lo <= 0:
            raise SearchSpaceError(
                f"{self.method}: low must be > 0 to take its logarithm, got low={lo!r}"
            )
        object.__setattr__(self, "low", lo)
        object.__setattr__(self, "high", hi)
        object.__setattr__(self, "base", _base(self.method, self.base))

    def _cont(self, u: float) -> float:
        a, b = math.log(self.low), math.log(self.high)
        # exp(log(x)) drifts in the last bit; the ends stay inside the bounds.
        return min(max(math.exp(a + _clip_unit(u) * (b - a)), self.low), self.high)

    def to_unit(self, value: Any) -> float:
        a, b = math.log(self.low), math.log(self.high)
        return _clip_unit((math.log(max(float(value), self.low)) - a) / (b - a))

    def _dimension(self, **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"low": self.low, "high": self.high, **extra}
        if self.base != math.e:
            out["base"] = self.base
        return out


@dataclass(frozen=True)
class LogUniform(_LogBounded):
    """A float whose logarithm is uniform between ``log(low)`` and ``log(high)``.

    ``low`` and ``high`` are the values themselves (hyperopt's ``hp.loguniform`` takes their
    logarithms). ``base`` is accepted for hpogrid / Ray Tune compatibility; a log-uniform
    distribution is the same whatever the base.
    """

    low: float
    high: float
    base: float = math.e
    method = "loguniform"

    def __post_init__(self) -> None:
        self._validate_log()

    def from_unit(self, u: float) -> float:
        return float(self._cont(u))

    def check(self, name: str, value: Any) -> Any:
        return float(super().check(name, value))

    def dimension(self) -> dict[str, Any]:
        return self._dimension()


@dataclass(frozen=True)
class QLogUniform(_LogBounded):
    """A log-uniform value snapped to a multiple of ``q`` inside ``[low, high]``."""

    low: float
    high: float
    q: float | int
    base: float = math.e
    method = "qloguniform"

    def __post_init__(self) -> None:
        self._validate_log()
        q = _positive(self.method, "q", self.q)
        _check_grid(self.method, self.low, self.high, q)
        object.__setattr__(self, "q", q)

    def from_unit(self, u: float) -> float | int:
        return _quantise_bounded(self._cont(u), self.low, self.high, self.q)

    def dimension(self) -> dict[str, Any]:
        return self._dimension(q=self.q)


class _Gaussian(Dist):
    mu: float
    sigma: float

    def _validate(self) -> None:
        object.__setattr__(self, "mu", _number(self.method, "mu", self.mu))
        sigma = _number(self.method, "sigma", self.sigma)
        if sigma <= 0:
            raise SearchSpaceError(f"{self.method}: sigma must be > 0, got sigma={sigma!r}")
        object.__setattr__(self, "sigma", sigma)

    def _z(self, u: float) -> float:
        return _STD_NORMAL.inv_cdf(min(max(float(u), _U_EPS), 1 - _U_EPS))

    def check(self, name: str, value: Any) -> Any:
        return _number(name, "value", value)


@dataclass(frozen=True)
class Normal(_Gaussian):
    """A float drawn from a normal distribution with mean ``mu`` and deviation ``sigma``."""

    mu: float
    sigma: float
    method = "normal"

    def __post_init__(self) -> None:
        self._validate()

    def from_unit(self, u: float) -> float:
        return float(self.mu + self.sigma * self._z(u))

    def to_unit(self, value: Any) -> float:
        return _STD_NORMAL.cdf((float(value) - self.mu) / self.sigma)

    def check(self, name: str, value: Any) -> Any:
        return float(super().check(name, value))

    def dimension(self) -> dict[str, Any]:
        return {"mu": self.mu, "sigma": self.sigma}


@dataclass(frozen=True)
class QNormal(_Gaussian):
    """``round(normal(mu, sigma) / q) * q``; ints when ``q`` is an int."""

    mu: float
    sigma: float
    q: float | int
    method = "qnormal"

    def __post_init__(self) -> None:
        self._validate()
        object.__setattr__(self, "q", _positive(self.method, "q", self.q))

    def from_unit(self, u: float) -> float | int:
        return _clean(round((self.mu + self.sigma * self._z(u)) / self.q) * self.q, self.q)

    def to_unit(self, value: Any) -> float:
        return _STD_NORMAL.cdf((float(value) - self.mu) / self.sigma)

    def dimension(self) -> dict[str, Any]:
        return {"mu": self.mu, "sigma": self.sigma, "q": self.q}


class _LogGaussian(_Gaussian):
    base: float

    def _cont(self, u: float) -> float:
        return float(self.base ** (self.mu + self.sigma * self._z(u)))

    def to_unit(self, value: Any) -> float:
        v = float(value)
        if v <= 0:
            return 0.0
        return _STD_NORMAL.cdf((math.log(v, self.base) - self.mu) / self.sigma)

    def check(self, name: str, value: Any) -> Any:
        v = super().check(name, value)
        if v < 0:
            raise SearchSpaceError(f"'{name}' = {value!r} is negative; {self.method} is >= 0")
        return v

    def _dimension(self, **extra: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"mu": self.mu, "sigma": self.sigma, **extra}
        if self.base != math.e:
            out["base"] = self.base
        return out


@dataclass(frozen=True)
class LogNormal(_LogGaussian):
    """``base ** normal(mu, sigma)`` (hyperopt's ``hp.lognormal`` when ``base`` is e)."""

    mu: float
    sigma: float
    base: float = math.e
    method = "lognormal"

    def __post_init__(self) -> None:
        self._validate()
        object.__setattr__(self, "base", _base(self.method, self.base))

    def from_unit(self, u: float) -> float:
        return self._cont(u)

    def dimension(self) -> dict[str, Any]:
        return self._dimension()


@dataclass(frozen=True)
class QLogNormal(_LogGaussian):
    """``round(base ** normal(mu, sigma) / q) * q``; ints when ``q`` is an int."""

    mu: float
    sigma: float
    q: float | int
    base: float = math.e
    method = "qlognormal"

    def __post_init__(self) -> None:
        self._validate()
        object.__setattr__(self, "base", _base(self.method, self.base))
        object.__setattr__(self, "q", _positive(self.method, "q", self.q))

    def from_unit(self, u: float) -> float | int:
        return _clean(round(self._cont(u) / self.q) * self.q, self.q)

    def dimension(self) -> dict[str, Any]:
        return self._dimension(q=self.q)


@dataclass(frozen=True)
class Fixed(Dist):
    """A constant: every trial gets ``value``. It takes no coordinate in the unit hypercube."""

    value: Any = field(default=None)
    method = "fixed"

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _plain(self.value))

    @property
    def searchable(self) -> bool:
        return False

    def from_unit(self, u: float) -> Any:
        return self.value

    def to_unit(self, value: Any) -> float:
        return 0.5

    def check(self, name: str, value: Any) -> Any:
        if not _same(value, self.value) and value != self.value:
            raise SearchSpaceError(f"'{name}' = {value!r} differs from its fixed value {self.value!r}")
        return self.value

    def key(self, value: Any) -> Any:
        return None

    def dimension(self) -> dict[str, Any]:
        return {"value": self.value}


# -- lowercase constructors, the spelling users write (hyperopt / hpogrid names) ---------------


def choice(options: Sequence[Any], *, weights: Sequence[float] | None = None) -> Choice:
    """One of ``options`` (uniformly, or with probabilities ``weights`` summing to 1).

    Example:
        >>> choice(["adam", "sgd"], weights=[0.8, 0.2]).from_unit(0.79)
        'adam'
    """
    return Choice(options, None if weights is None else tuple(weights))  # type: ignore[arg-type]


#: hpogrid's name for :func:`choice`.
categorical = choice


def uniform(low: float, high: float) -> Uniform:
    """A float uniform in ``[low, high]``.

    Example:
        >>> uniform(0.0, 1.0).from_unit(0.25)
        0.25
    """
    return Uniform(low, high)


def uniformint(low: int, high: int) -> UniformInt:
    """An int uniform in ``low..high``, both ends included.

    Example:
        >>> uniformint(1, 3).from_unit(0.99)
        3
    """
    return UniformInt(low, high)


def quniform(low: float, high: float, q: float | int) -> QUniform:
    """A multiple of ``q`` in ``[low, high]`` (ints when ``q`` is an int).

    Example:
        >>> quniform(0, 100, 10).from_unit(0.33)
        30
    """
    return QUniform(low, high, q)


def loguniform(low: float, high: float, *, base: float = math.e) -> LogUniform:
    """A float log-uniform in ``[low, high]`` (bounds are values, not exponents).

    Example:
        >>> round(loguniform(1e-5, 1e-1).from_unit(0.25), 12)
        0.0001
    """
    return LogUniform(low, high, base)


def qloguniform(low: float, high: float, q: float | int, *, base: float = math.e) -> QLogUniform:
    """A log-uniform value in ``[low, high]`` snapped to a multiple of ``q``.

    Example:
        >>> qloguniform(1, 1000, 1).from_unit(0.5)
        32
    """
    return QLogUniform(low, high, q, base)


def normal(mu: float, sigma: float) -> Normal:
    """A float from a normal distribution.

    Example:
        >>> normal(1.0, 2.0).from_unit(0.5)
        1.0
    """
    return Normal(mu, sigma)


def qnormal(mu: float, sigma: float, q: float | int) -> QNormal:
    """A normal value rounded to a multiple of ``q``.

    Example:
        >>> qnormal(10, 3, 2).from_unit(0.5)
        10
    """
    return QNormal(mu, sigma, q)


def lognormal(mu: float, sigma: float, *, base: float = math.e) -> LogNormal:
    """``base ** normal(mu, sigma)``.

    Example:
        >>> lognormal(-3, 1, base=10).from_unit(0.5)
        0.001
    """
    return LogNormal(mu, sigma, base)


def qlognormal(mu: float, sigma: float, q: float | int, *, base: float = math.e) -> QLogNormal:
    """``base ** normal(mu, sigma)`` rounded to a multiple of ``q``.

    Example:
        >>> qlognormal(2, 0.5, 1, base=10).from_unit(0.5)
        100
    """
    return QLogNormal(mu, sigma, q, base)


def fixed(value: Any) -> Fixed:
    """A constant hyperparameter (use it to pass a literal list or dict).

    Example:
        >>> fixed([1, 2]).from_unit(0.3)
        [1, 2]
    """
    return Fixed(value)
