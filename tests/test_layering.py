"""The structure of HOUSE_STYLE and docs/architecture.md, enforced.

Between packages: ui -> visualizers, cache, analysis; never back. Inside ``analysis/``, tiers
import downward only: leaves <- stores <- models <- capabilities <- cli, no capability imports
another (model cards read the others' result types), and no two modules import each other,
directly or round a circle, not even lazily inside a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

FORBIDDEN = {
    "analysis": {"streamlit", "ui", "visualizers"},
    "visualizers": {"streamlit", "ui", "cache"},
    "cache": {"streamlit", "ui", "visualizers", "analysis", "tensorflow", "keras"},
}

# Tier of each top-level part of analysis/ (a module or a package); higher tiers import lower ones.
TIERS = {
    "analysis.errors": 0,
    "analysis.atomic_files": 0,
    "analysis.paths": 0,
    "analysis.hashing": 0,
    "analysis.sqlite_store": 0,
    "analysis.progress": 0,
    "analysis.static_figures": 0,
    "analysis.data_forms": 1,
    "analysis.datasets": 1,
    "analysis.records": 1,
    "analysis.server_files": 1,
    "analysis.models": 2,
    "analysis.training": 2,
    "analysis.microscope": 3,
    "analysis.privacy": 3,
    "analysis.fairness": 3,
    "analysis.explain": 3,
    "analysis.model_card": 3,
    "analysis.demo": 3,
    "analysis.whatif": 3,
    "analysis.cli": 4,
    "analysis.__main__": 5,
}
CAPABILITY_TIER = 3
# The one sanctioned import between capabilities: model cards read other capabilities' result types.
RESULT_TYPES = {"analysis.fairness.metrics", "analysis.fairness.result", "analysis.privacy.result"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted((PROJECT_ROOT / "analysis").rglob("*.py"))}


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def analysis_imports(path: Path) -> Iterator[str]:
    """The analysis modules ``path`` imports anywhere (lazy imports too); ``from pkg import mod`` names mod."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("analysis"))
        elif (
            isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("analysis")
        ):
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            found = [name for name in submodules if name in MODULES]
            yield from found or [node.module]


def part_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_down_only(package):
    offenders = {}
    for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
        bad = imported_roots(path.read_text()) & FORBIDDEN[package]
        if bad:
            offenders[str(path.relative_to(PROJECT_ROOT))] = sorted(bad)
    assert offenders == {}


def test_every_part_of_analysis_has_a_tier():
    assert {part_of(m) for m in MODULES} - {"analysis"} <= set(TIERS)


def test_analysis_tiers_import_downward_only():
    offenders = []
    for module, path in MODULES.items():
        if module == "analysis":
            continue
        own = part_of(module)
        for imported in analysis_imports(path):
            other = part_of(imported)
            if other == own:
                continue
            if TIERS[other] > TIERS[own]:
                offenders.append(f"{module} (tier {TIERS[own]}) imports {imported} (tier {TIERS[other]})")
            elif TIERS[other] == TIERS[own] == CAPABILITY_TIER and not (
                own == "analysis.model_card" and imported in RESULT_TYPES
            ):
                offenders.append(f"capability {module} imports capability {imported}")
            elif TIERS[other] == TIERS[own] < CAPABILITY_TIER:
                offenders.append(f"{module} imports {imported} of its own tier")
    assert offenders == []


def test_no_import_cycles_inside_analysis():
    graph = {
        module: {m for m in analysis_imports(path) if m in MODULES and m != module} for module, path in MODULES.items()
    }
    cycles, state = [], {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for other in sorted(graph[module]):
            if state.get(other) == "open":
                cycles.append(" -> ".join([*trail[trail.index(other) :], other]))
            elif other not in state:
                visit(other, [*trail, other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
