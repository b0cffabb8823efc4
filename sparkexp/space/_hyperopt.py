"""Translation between a :class:`Space` and hyperopt's ``hp.*`` expressions (for TPE).

Bounds translate to hyperopt's conventions: ``loguniform(low, high)`` becomes
``hp.loguniform(label, log(low), log(high))``, ``lognormal(mu, sigma, base=b)`` becomes
``hp.lognormal(label, mu * ln b, sigma * ln b)``, and ``uniformint(low, high)`` becomes
``hp.quniform(label, low - 0.5, high + 0.5, 1)`` so both ends are as likely as the inside
values. Hyperopt lets ``q*`` values leave ``[low, high]``; :func:`from_hyperopt_vals` snaps them
back with the primitive's own rule, so TPE proposes exactly what random search could.

Example:
    >>> from sparkexp.space import Space, choice, uniformint
    >>> s = Space({"opt": choice(["adam", "sgd"]), "layers": uniformint(1, 4)})
    >>> sorted(to_hyperopt(s))
    ['layers', 'opt']
    >>> from_hyperopt_vals(s, {"opt": 1, "layers": 4.0})
    {'opt': 'sgd', 'layers': 4}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sparkexp.space import _dists as d

if TYPE_CHECKING:
    from sparkexp.space._space import Space

__all__ = ["to_hyperopt", "from_hyperopt_vals", "to_hyperopt_vals"]


def _node(label: str, dist: d.Dist, choice_indices: bool) -> Any:
    from hyperopt import hp

    if isinstance(dist, d.Choice):
        opts: list[Any] = list(range(len(dist.options))) if choice_indices else list(dist.options)
        if dist.weights is None:
            return hp.choice(label, opts)
        return hp.pchoice(label, list(zip(dist.weights, opts, strict=True)))
    if isinstance(dist, d.Uniform):
        return hp.uniform(label, dist.low, dist.high)
    if isinstance(dist, d.UniformInt):
        return hp.quniform(label, dist.low - 0.5, dist.high + 0.5, 1)
    if isinstance(dist, d.QUniform):
        return hp.quniform(label, dist.low, dist.high, dist.q)
    if isinstance(dist, d.QLogUniform):
        return hp.qloguniform(label, math.log(dist.low), math.log(dist.high), dist.q)
    if isinstance(dist, d.LogUniform):
        return hp.loguniform(label, math.log(dist.low), math.log(dist.high))
    if isinstance(dist, d.QNormal):
        return hp.qnormal(label, dist.mu, dist.sigma, dist.q)
    if isinstance(dist, d.Normal):
        return hp.normal(label, dist.mu, dist.sigma)
    if isinstance(dist, (d.LogNormal, d.QLogNormal)):
        k = math.log(dist.base)
        if isinstance(dist, d.QLogNormal):
            return hp.qlognormal(label, dist.mu * k, dist.sigma * k, dist.q)
        return hp.lognormal(label, dist.mu * k, dist.sigma * k)
    raise TypeError(f"no hyperopt equivalent for {dist!r}")  # pragma: no cover


def to_hyperopt(space: Space, *, choice_indices: bool = False) -> dict[str, Any]:
    """``{name: hp.*}`` for ``space``; fixed values stay plain values.

    With ``choice_indices=True`` choices range over option indices ``0..k-1`` (what TPE
    models anyway), which keeps hyperopt from interpreting lists or dicts among the options.
    """
    out: dict[str, Any] = {}
    for name, dist in space.items():
        out[name] = dist.value if isinstance(dist, d.Fixed) else _node(name, dist, choice_indices)
    return out


def _snap(dist: d.Dist, v: float) -> Any:
    """A value hyperopt produced, made exactly one this primitive can produce."""
    if isinstance(dist, d.UniformInt):
        return int(min(max(round(v), dist.low), dist.high))
    if isinstance(dist, (d.QUniform, d.QLogUniform)):
        return d._quantise_bounded(float(v), dist.low, dist.high, dist.q)
    if isinstance(dist, (d.QNormal, d.QLogNormal)):
        return d._clean(round(float(v) / dist.q) * dist.q, dist.q)
    if isinstance(dist, (d.Uniform, d.LogUniform)):
        return float(min(max(float(v), dist.low), dist.high))
    return float(v)


def from_hyperopt_vals(space: Space, vals: Mapping[str, Any]) -> dict[str, Any]:
    """Hyperparameters from hyperopt's per-label ``vals`` (choice vals are option indices); a
    label with no value (an absent conditional parameter) is left out."""
    out: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, d.Fixed):
            out[name] = dist.value
            continue
        v = vals[name]
        if isinstance(v, (list, tuple)):
            if not v:
                continue
            v = v[0]
        out[name] = dist.options[int(v)] if isinstance(dist, d.Choice) else _snap(dist, v)
    return out


def to_hyperopt_vals(space: Space, params: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`from_hyperopt_vals`: choice values become option indices; absent
    conditional parameters get ``[]`` (no value), as hyperopt records labels not drawn."""
    checked = space.check(params)
    out: dict[str, Any] = {}
    for name in space.unit_names:
        if name not in checked:
            out[name] = []
            continue
        dist = space[name]
        out[name] = dist.index(checked[name]) if isinstance(dist, d.Choice) else checked[name]
    return out
