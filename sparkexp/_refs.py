"""References to importable functions (``module:qualname``), recorded so a resume can re-import.

Example:
    >>> function_ref(function_ref)
    'sparkexp._refs:function_ref'
    >>> import_ref(function_ref(function_ref)) is function_ref
    True
    >>> function_ref(lambda x: x) is None
    True
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["function_ref", "import_ref"]


def function_ref(fn: Any) -> str | None:
    """``module:qualname`` when ``fn`` can be imported again later, else None."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    return f"{module}:{qualname}"


def import_ref(ref: str) -> Any:
    """The object ``ref`` (``module:qualname``) names.

    Raises:
        ImportError: the module or the attribute cannot be found.
    """
    module, _, qualname = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ImportError(f"{module} has no {qualname}") from None
    return obj
