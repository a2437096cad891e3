"""Set-up files: pins are complete and exact, the Dockerfile lints, CI calls the README's command."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import PROJECT_ROOT


def test_every_requirement_is_pinned_exactly():
    for name in ("requirements.txt", "requirements-nodeps.txt"):
        lines = [line for line in (PROJECT_ROOT / name).read_text().splitlines() if line and not line.startswith("#")]
        assert lines, name
        assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", line) for line in lines), name


def test_stale_upstream_pins_are_not_installed():
    pinned = (PROJECT_ROOT / "requirements.txt").read_text().lower().replace("_", "-")
    for absent in (
        "tf-models-official",
        "tensorflow-probability",
        "tensorflow-estimator",
        "lucid",
        "model-card-toolkit",
    ):
        assert f"\n{absent}==" not in pinned
    assert re.search(r"\nscikit-learn==1\.6\.", pinned)
    assert re.search(r"\ntensorflow-cpu==2\.21\.", pinned)


def test_ci_runs_the_readme_test_command():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make run" in readme


@pytest.mark.skipif(
    shutil.which("hadolint") is None and not (PROJECT_ROOT / ".venv/bin/hadolint").exists(),
    reason="hadolint is not installed",
)
def test_dockerfile_lints_clean():
    binary = shutil.which("hadolint") or str(PROJECT_ROOT / ".venv/bin/hadolint")
    result = subprocess.run([binary, str(PROJECT_ROOT / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
