"""The dependency direction of HOUSE_STYLE: ui -> visualizers, cache, analysis; never back."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import PROJECT_ROOT

FORBIDDEN = {
    "analysis": {"streamlit", "ui", "visualizers"},
    "visualizers": {"streamlit", "ui", "cache"},
    "cache": {"streamlit", "ui", "visualizers", "analysis", "tensorflow", "keras"},
}


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_down_only(package):
    offenders = {}
    for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
        bad = imported_roots(path.read_text()) & FORBIDDEN[package]
        if bad:
            offenders[str(path.relative_to(PROJECT_ROOT))] = sorted(bad)
    assert offenders == {}
