"""Generate ``docs/api.md`` from the docstrings of sparkexp's public modules.

Usage::

    python docs/gen_api.py            # rewrite docs/api.md
    python docs/gen_api.py --check    # exit 1 if docs/api.md is out of date

Public names are each module's ``__all__``; the text is each object's docstring, verbatim.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
import types
from typing import Any

__all__ = ["MODULES", "render", "main"]

#: the modules documented, in order
MODULES = (
    "sparkexp",
    "sparkexp.experiment",
    "sparkexp.result",
    "sparkexp.options",
    "sparkexp.status",
    "sparkexp.space",
    "sparkexp.search",
    "sparkexp.reporter",
    "sparkexp.checkpoint",
    "sparkexp.hdfs",
    "sparkexp.tensorboard",
    "sparkexp.report",
    "sparkexp.tracking",
    "sparkexp.dashboard",
)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "api.md")


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _doc(obj: Any) -> str:
    return _markdown(inspect.getdoc(obj) or "(no docstring)")


_SECTIONS = ("Args:", "Arguments:", "Attributes:", "Raises:", "Returns:", "Yields:")
_ITEM = re.compile(r"^ {4}(\*{0,2}[\w.~`:]+)(?: \(([^)]*)\))?: ?(.*)$")


def _markdown(doc: str) -> str:
    """Docstring text as Markdown: doctest sessions fenced as code, Google-style sections
    (``Args:``, ``Raises:``...) as bullet lists."""
    out: list[str] = []
    fenced = False
    indent = 0
    section = None
    for line in doc.splitlines():
        stripped = line.lstrip()
        if not fenced and stripped.startswith(">>>"):
            indent = len(line) - len(stripped)
            out += ["", "```pycon"]
            fenced = True
        elif fenced and not stripped:
            out += ["```", ""]
            fenced = False
            continue
        if fenced:
            out.append(line[indent:])
            continue
        if line in _SECTIONS:
            section = line
            out += [f"**{line[:-1]}:**", ""]
            continue
        if section and line.startswith("    "):
            item = _ITEM.match(line) if section != "Returns:" else None
            if item and not line.startswith("     "):
                kind = f" ({item.group(2)})" if item.group(2) else ""
                out.append(f"- `{item.group(1)}`{kind}: {item.group(3)}")
            else:
                out.append(("  " if section != "Returns:" else "") + stripped)
            continue
        if stripped and not line.startswith(" "):
            section = None
        out.append(line)
    if fenced:
        out.append("```")
    return "\n".join(out)


def _first_line(obj: Any) -> str:
    return ((inspect.getdoc(obj) or "").strip().splitlines() or ["(no docstring)"])[0]


def _members(cls: type) -> list[str]:
    """The class's own public members, and those of mixins it takes them from (concrete
    bases from private modules, e.g. ``TracksBest``); abstract bases are documented alone."""
    out = []
    seen: set[str] = set()
    sources = [cls] + [b for b in cls.__mro__[1:]
                       if "._" in b.__module__ and not inspect.isabstract(b)
                       and b.__module__.startswith("sparkexp")]
    for name, value in [item for source in sources for item in vars(source).items()]:
        if name.startswith("_") or name in seen:
            continue
        seen.add(name)
        if isinstance(value, property):
            out.append(f"- `{name}` (property): {_first_line(value)}")
        elif inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod)):
            func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
            out.append(f"- `{name}{_signature(func)}`: {_first_line(func)}")
    return out


def _entry(module: str, name: str, obj: Any) -> list[str]:
    qual = f"{module}.{name}"
    if isinstance(obj, types.ModuleType):
        return [f"### `{qual}`", "", f"Module; see [`{obj.__name__}`](#{_anchor(obj.__name__)}).", ""]
    if inspect.isclass(obj):
        lines = [f"### class `{qual}{_signature(obj)}`", "", _doc(obj), ""]
        members = _members(obj)
        if members:
            lines += ["Members:", "", *members, ""]
        return lines
    if callable(obj):
        target = getattr(obj, "__name__", name)
        alias = f" (alias of `{target}`)" if target != name and hasattr(obj, "__module__") else ""
        return [f"### `{qual}{_signature(obj)}`{alias}", "", _doc(obj), ""]
    # a set's order follows string hashing, which changes every run: show it sorted
    shown = f"{type(obj).__name__}({sorted(obj)!r})" if isinstance(obj, (set, frozenset)) else repr(obj)
    if len(shown) > 80:
        shown = f"<{type(obj).__name__} of {len(obj)}>" if hasattr(obj, "__len__") else type(obj).__name__
    return [f"### `{qual}`", "", f"Constant: `{shown}`", ""]


def _anchor(module: str) -> str:
    return module.replace(".", "")


def render() -> str:
    """The full text of ``docs/api.md``."""
    import importlib

    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `docs/gen_api.py`; do not edit by hand "
        "(run `python docs/gen_api.py`).",
        "",
        *[f"- [`{m}`](#{_anchor(m)})" for m in MODULES],
        "",
    ]
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        lines += [f"## `{module_name}`", "", _doc(module), ""]
        for name in getattr(module, "__all__", []):
            if name.startswith("__"):
                continue
            lines += _entry(module_name, name, getattr(module, name))
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or ``--check``) ``docs/api.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/api.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        with open(OUT, encoding="utf-8") as fh:
            if fh.read() != text:
                print("docs/api.md is out of date: run python docs/gen_api.py", file=sys.stderr)
                return 1
        return 0
    with open(OUT, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
