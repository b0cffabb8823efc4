"""The committed API reference matches the docstrings it is generated from."""

from __future__ import annotations

import importlib.util
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _gen_api():
    spec = importlib.util.spec_from_file_location("gen_api", os.path.join(REPO, "docs", "gen_api.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_md_is_up_to_date():
    gen = _gen_api()
    with open(os.path.join(REPO, "docs", "api.md"), encoding="utf-8") as fh:
        committed = fh.read()
    assert committed == gen.render(), "docs/api.md is stale: run python docs/gen_api.py"


def test_api_md_covers_every_public_name():
    import importlib

    text = _gen_api().render()
    for module_name in _gen_api().MODULES:
        module = importlib.import_module(module_name)
        assert f"## `{module_name}`" in text
        for name in module.__all__:
            if not name.startswith("__"):
                assert f"`{module_name}.{name}" in text, f"{module_name}.{name} missing"
