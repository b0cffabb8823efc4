"""Search spaces: typed primitives, parsing (plain dicts, hpogrid JSON), grid helpers.

A space maps hyperparameter names to *primitives* (distributions). Write them directly, as
hpogrid JSON, or with the plain-dict shorthand (see :func:`parse_dist` for the rules)::

    >>> from sparkexp.space import Space, loguniform, choice
    >>> s = Space({
    ...     "lr": loguniform(1e-5, 1e-2),
    ...     "dropout": [0.1, 0.6],                    # two numbers: a uniform range
    ...     "layers": [1, 4],                         # two ints: uniformint, ends included
    ...     "optimizer": ["adam", "sgd", "rmsprop"],  # other lists: a choice
    ...     "epochs": 20,                             # a scalar: fixed
    ...     "wd": {"method": "loguniform", "dimension": {"low": 1e-6, "high": 1e-3}},
    ... })
    >>> s.names
    ['lr', 'dropout', 'layers', 'optimizer', 'epochs', 'wd']

A parameter may exist only under given values of an earlier choice (:func:`conditional`, or
``{"values": ..., "when": {...}}`` in a dict); a hyperopt space as written (``hp.*``, nested
``hp.choice``) is wrapped by :class:`HyperoptSpace`.

Grid search takes lists; the grid helpers (:func:`linear`, :func:`logspace`, :func:`random`,
:func:`multiple`) build them. Reference: ``docs/search-spaces.md``.
"""

from __future__ import annotations

from sparkexp.space._conditional import Conditional, conditional
from sparkexp.space._dists import (
    Choice,
    Dist,
    Fixed,
    LogNormal,
    LogUniform,
    Normal,
    QLogNormal,
    QLogUniform,
    QNormal,
    QUniform,
    Uniform,
    UniformInt,
    categorical,
    choice,
    fixed,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    uniform,
    uniformint,
)
from sparkexp.space._grid import GridValues, linear, logspace, multiple, random
from sparkexp.space._hyperopt_space import HyperoptSpace, is_hyperopt_space
from sparkexp.space._parse import METHODS, parse_dist
from sparkexp.space._space import Space

__all__ = [
    "Space",
    "HyperoptSpace",
    "is_hyperopt_space",
    "Conditional",
    "conditional",
    "parse_dist",
    "METHODS",
    # primitives
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
    # grid helpers
    "GridValues",
    "multiple",
    "linear",
    "logspace",
    "random",
]
