"""``--engine ray``: a real local Ray instance renders into the shared store; the error paths.

The slow tests share one small local Ray instance (2 CPUs, no dashboard, loopback only, token
auth without touching ``~/.ray``, no usage statistics), started from a directory that is not the
project and without ``PYTHONPATH``: its workers find Loupe's code only through the engine's
``runtime_env``. The fast tests swap in a stand-in ``ray`` module for what a local instance
cannot easily show (a worker on another store or other code, starting and stopping Ray).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import traceback
import types
from pathlib import Path

import pytest

from analysis.cli.main import main
from analysis.errors import AnalysisInputError
from analysis.microscope.featurevis import RenderSpec, load_cached_renderings, ray_engine, render_units
from analysis.microscope.featurevis.ray_engine import render_units_on_ray
from cache import PNG
from tests.conftest import PROJECT_ROOT

RAY_TOKEN = secrets.token_hex(16)  # one per process: Ray's driver caches the token it first read
RENDER = ["render", "--model", "tiny", "--layer", "conv", "--steps", "8", "--seed", "1"]


@pytest.fixture
def tiny(loupe_home, tiny_cnn_path):
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    return ModelRegistry().register(RegisterModelSpec(path=tiny_cnn_path, model_id="tiny"))


def quiet_ray_env(patch: pytest.MonkeyPatch) -> None:
    """No usage statistics sent; token auth (Ray's default for a local instance) with the token in the
    environment, so that Ray does not write one to ~/.ray/auth_token."""
    patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    patch.setenv("RAY_AUTH_TOKEN", RAY_TOKEN)
    patch.setenv("RAY_AUTH_MODE", "")  # recorded, so that teardown also drops the "token" Ray sets itself
    patch.delenv("RAY_AUTH_MODE")
    patch.delenv("RAY_ADDRESS", raising=False)


def short_temp_dir() -> Path:
    """Ray's Unix sockets live under its temp dir; their paths must stay under 108 bytes."""
    return Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp" if os.path.isdir("/tmp") else None))


def processes_of(temp_dir: Path) -> list[int]:
    """Other live processes started with ``RAY_TMPDIR=temp_dir`` (Ray's, which inherit it; workers too)."""
    marker = f"RAY_TMPDIR={temp_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # ended meanwhile, or not ours
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def local_ray():
    import ray

    temp_dir = short_temp_dir()
    with pytest.MonkeyPatch.context() as patch:
        quiet_ray_env(patch)
        patch.delenv("PYTHONPATH", raising=False)
        patch.setenv("RAY_TMPDIR", str(temp_dir))  # marks Ray's processes for processes_of()
        patch.chdir(temp_dir)  # Ray puts the driver's working directory on its workers' sys.path
        try:
            ray.init(
                num_cpus=2,
                include_dashboard=False,
                log_to_driver=False,
                object_store_memory=100 * 1024**2,
                _node_ip_address="127.0.0.1",
                _temp_dir=str(temp_dir),
            )
            yield ray
        finally:
            ray.shutdown()
            left = processes_of(temp_dir)
            shutil.rmtree(temp_dir, ignore_errors=True)
    assert left == [], f"Ray processes left running: {left}"


def refuse_ray_tasks(ray, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a fully cached render must not start Ray or a Ray task")

    monkeypatch.setattr(ray, "remote", refuse)
    monkeypatch.setattr(ray, "init", refuse)


def pngs(spec: RenderSpec) -> list[bytes]:
    """Each unit's PNG as stored in the result store of the current environment."""
    stored = load_cached_renderings(spec)
    assert all(stored[unit] is not None for unit in spec.targets())
    return [PNG.encode(stored[unit].image) for unit in spec.targets()]


@pytest.mark.slow
def test_render_units_on_ray_fills_the_shared_store_like_the_local_engine(local_ray, tiny, tmp_path, monkeypatch):
    spec = RenderSpec(model_id="tiny", layer="conv", units=(0, 1, 2, 3), steps=8, batch=2, seed=1)
    messages = []
    renderings = render_units_on_ray(spec, progress=lambda fraction, message: messages.append((fraction, message)))
    assert [(r.unit, r.cached) for r in renderings] == [(0, False), (1, False), (2, False), (3, False)]
    assert messages == [
        (0.0, "0 cached, 4 to render in 2 Ray task(s)"),
        (0.5, "1/2 Ray task(s) finished"),
        (1.0, "2/2 Ray task(s) finished"),
    ]
    on_ray = pngs(spec)
    assert on_ray == [PNG.encode(r.image) for r in renderings]
    assert local_ray.is_initialized()  # the caller's session is used, not shut down

    with monkeypatch.context() as elsewhere:
        elsewhere.setenv("LOUPE_CACHE_DIR", str(tmp_path / "local-store"))
        local = render_units(spec)
        assert pngs(spec) == on_ray
    assert [r.activation for r in local] == [r.activation for r in renderings]

    refuse_ray_tasks(local_ray, monkeypatch)
    messages.clear()
    again = render_units_on_ray(spec, progress=lambda fraction, message: messages.append((fraction, message)))
    assert [r.cached for r in again] == [True, True, True, True]
    assert [PNG.encode(r.image) for r in again] == on_ray
    assert messages == [(0.0, "4 cached, 0 to render in 0 Ray task(s)"), (1.0, "done")]


@pytest.mark.slow
def test_cli_engine_ray_json_then_all_cached(local_ray, tiny, tmp_path, capsys, monkeypatch):
    args = [*RENDER, "--units", "0,2,3", "--batch", "2", "--json", "-"]
    assert main([*args, "--engine", "ray"]) == 0
    captured = capsys.readouterr()
    on_ray = json.loads(captured.out)
    assert [(u["unit"], u["cached"]) for u in on_ray["units"]] == [(0, False), (2, False), (3, False)]
    assert on_ray["units_per_minute"] > 0
    assert "render   0% 0 cached, 3 to render in 2 Ray task(s)" in captured.err
    assert "render 100% 2/2 Ray task(s) finished" in captured.err
    spec = RenderSpec(model_id="tiny", layer="conv", units=(0, 2, 3), steps=8, seed=1, batch=2)
    stored = pngs(spec)

    with monkeypatch.context() as elsewhere:
        elsewhere.setenv("LOUPE_CACHE_DIR", str(tmp_path / "local-store"))
        assert main([*args, "--engine", "local"]) == 0
        local = json.loads(capsys.readouterr().out)
        assert pngs(spec) == stored
    assert [u["activation"] for u in local["units"]] == [u["activation"] for u in on_ray["units"]]

    refuse_ray_tasks(local_ray, monkeypatch)
    assert main([*args, "--engine", "ray"]) == 0
    captured = capsys.readouterr()
    again = json.loads(captured.out)
    assert [u["cached"] for u in again["units"]] == [True, True, True] and again["units_per_minute"] is None
    assert [u["activation"] for u in again["units"]] == [u["activation"] for u in on_ray["units"]]
    assert "3 cached, 0 to render in 0 Ray task(s)" in captured.err


@pytest.mark.slow
def test_bad_input_met_on_a_worker_is_one_line(local_ray, tiny, tiny_cnn_path, capsys):
    """The model file is missing where the worker looks (here: everywhere, after the driver's checks)."""
    tiny_cnn_path.unlink()
    assert main([*RENDER, "--units", "0", "--engine", "ray"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == (
        f"error: on a Ray worker: revision {tiny.current.short} of 'tiny' is no longer available: "
        f"its file {str(tiny_cnn_path)!r} is gone"
    )
    assert "Traceback" not in err


@pytest.mark.slow
def test_cli_from_another_directory_starts_and_stops_its_own_local_ray(tiny, tmp_path):
    """The documented command, run elsewhere, with no Ray running: a local instance, nothing left behind."""
    temp_dir = short_temp_dir()
    with pytest.MonkeyPatch.context() as patch:
        quiet_ray_env(patch)
        env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), RAY_TMPDIR=str(temp_dir))
    try:
        command = [sys.executable, "-m", "analysis", *RENDER, "--units", "2-3", "--batch", "2", "--json", "-"]
        result = subprocess.run(
            [*command, "--engine", "ray"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        payload = json.loads(result.stdout)  # nothing else on stdout: worker output does not leak into the JSON
        assert [(u["unit"], u["cached"]) for u in payload["units"]] == [(2, False), (3, False)]
        assert "0 cached, 2 to render in 1 Ray task(s)" in result.stderr  # one render group of 2
        assert processes_of(temp_dir) == []
        assert len(pngs(RenderSpec(model_id="tiny", layer="conv", units=(2, 3), steps=8, seed=1, batch=2))) == 2
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)


# --- a stand-in for the ray module: each task runs in this process, under its runtime_env's variables ---


class FakeRay:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, initialized: bool = False, worker_patch=None):
        from ray.exceptions import RayTaskError

        self.exceptions = types.SimpleNamespace(RayTaskError=RayTaskError)
        self.monkeypatch = monkeypatch
        self.initialized = initialized
        self.worker_patch = worker_patch  # applied while a "worker" runs, e.g. other code
        self.calls: list[tuple] = []

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs) -> None:
        self.calls.append(("init", kwargs))
        self.initialized = True

    def shutdown(self) -> None:
        self.calls.append(("shutdown",))
        self.initialized = False

    def remote(self, function):
        fake = self

        class Task:
            def options(self, *, runtime_env):
                self.runtime_env = runtime_env
                return self

            def remote(self, *args):
                fake.calls.append(("task", args[1]))
                with fake.monkeypatch.context() as worker:
                    for name, value in self.runtime_env["env_vars"].items():
                        if name != "PYTHONPATH":
                            worker.setenv(name, value)
                    if fake.worker_patch is not None:
                        fake.worker_patch(worker)
                    try:
                        return ("value", function(*args))
                    except Exception as error:  # noqa: BLE001  (delivered by get(), as Ray does)
                        return (
                            "error",
                            fake.exceptions.RayTaskError(
                                "_render_chunk",
                                "".join(traceback.format_exception(error)),
                                error,
                                proctitle="ray::_render_chunk",
                                pid=1,
                                ip="127.0.0.1",
                            ),
                        )

        return Task()

    def wait(self, refs, num_returns):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        kind, value = ref
        if kind == "error":
            raise value.as_instanceof_cause()
        return value

    def cancel(self, ref) -> None:
        self.calls.append(("cancel",))


def test_without_ray_is_a_clear_error(tiny, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the environment lacked it
    assert main([*RENDER, "--units", "0", "--engine", "ray"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --engine ray needs the 'ray' package, which is missing from this Python environment; "
        "install the pinned requirements ('pip install -r requirements.txt', or 'make test'), or use --engine local"
    )


@pytest.mark.parametrize("initialized", [False, True])
def test_ray_is_started_and_shut_down_only_by_the_engine_that_started_it(tiny, monkeypatch, initialized):
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "")  # so that teardown undoes the engine's setdefault
    monkeypatch.delenv("RAY_USAGE_STATS_ENABLED")
    fake = FakeRay(monkeypatch, initialized=initialized)
    monkeypatch.setitem(sys.modules, "ray", fake)
    spec = RenderSpec(model_id="tiny", layer="conv", units=(0, 1, 2), steps=4, batch=2, seed=1)
    renderings = render_units_on_ray(spec)
    assert [(r.unit, r.cached) for r in renderings] == [(0, False), (1, False), (2, False)]
    tasks = [("task", [0, 1]), ("task", [2, 3])]  # unit 2's render group is (2, 3): it is rendered whole
    if initialized:
        assert fake.calls == tasks
    else:
        assert fake.calls == [("init", {"address": "10.0.0.1:6379", "include_dashboard": False}), *tasks, ("shutdown",)]
        assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"


def test_worker_env_carries_the_loupe_paths_and_the_project(loupe_home, monkeypatch):
    monkeypatch.setenv("LOUPE_CACHE_DIR", str(loupe_home / "shared-store"))
    monkeypatch.setenv("LOUPE_CACHE_SIZE_LIMIT", "1000000")
    assert ray_engine.worker_runtime_env() == {
        "env_vars": {
            "LOUPE_HOME": str(loupe_home),
            "LOUPE_CACHE_DIR": str(loupe_home / "shared-store"),
            "LOUPE_CACHE_SIZE_LIMIT": "1000000",
            "PYTHONPATH": f"{PROJECT_ROOT}{os.pathsep}${{PYTHONPATH}}",
        }
    }


def test_workers_render_the_revision_the_command_checked(tiny, tmp_path, monkeypatch):
    """A revision registered while the tasks wait does not change what they render."""
    from analysis.models.registry import ModelRegistry, RegisterModelSpec
    from tests.conftest import build_tiny_cnn

    def register_newer(worker: pytest.MonkeyPatch) -> None:
        path = tmp_path / "tiny-v2.keras"
        if not path.exists():
            build_tiny_cnn(seed=1).save(path)
            ModelRegistry().register(RegisterModelSpec(path=path, model_id="tiny"))

    monkeypatch.setitem(sys.modules, "ray", FakeRay(monkeypatch, worker_patch=register_newer))
    spec = RenderSpec(model_id="tiny", layer="conv", units=(0,), steps=4, seed=1)
    (rendering,) = render_units_on_ray(spec)
    assert rendering.revision == tiny.current.revision
    assert ModelRegistry().get("tiny").current.revision != tiny.current.revision


def test_a_worker_on_another_store_is_a_clear_error(tiny, tmp_path, monkeypatch):
    fake = FakeRay(monkeypatch)
    monkeypatch.setitem(sys.modules, "ray", fake)
    real_env = ray_engine.worker_runtime_env

    def other_store() -> dict:
        env = real_env()
        env["env_vars"]["LOUPE_CACHE_DIR"] = str(tmp_path / "not-shared")
        return env

    monkeypatch.setattr(ray_engine, "worker_runtime_env", other_store)
    spec = RenderSpec(model_id="tiny", layer="conv", units=(0,), steps=4, seed=1)
    with pytest.raises(AnalysisInputError) as error:
        render_units_on_ray(spec)
    from analysis.paths import cache_dir

    assert str(error.value) == (
        f"a Ray worker rendered unit 0 but it is not in the result store at {cache_dir()}; "
        "every Ray node must see the same LOUPE_CACHE_DIR at the same path"
    )


def test_a_worker_running_other_code_is_a_clear_error(tiny, monkeypatch):
    import analysis.microscope.featurevis.cached
    from analysis.microscope.featurevis.cached import resolve_render
    from analysis.microscope.featurevis.spec import CODE_VERSION

    def older_code(worker: pytest.MonkeyPatch) -> None:
        worker.setattr(analysis.microscope.featurevis.cached, "CODE_VERSION", "featurevis-older")

    spec = RenderSpec(model_id="tiny", layer="conv", units=(0,), steps=4, seed=1)
    resolved = resolve_render(spec)
    with monkeypatch.context() as worker:
        older_code(worker)
        their_key = resolved.key(0)
    monkeypatch.setitem(sys.modules, "ray", FakeRay(monkeypatch, worker_patch=older_code))
    with pytest.raises(AnalysisInputError) as error:
        render_units_on_ray(spec)
    assert str(error.value) == (
        f"a Ray worker stored unit 0 under cache key {their_key!r}, but this machine expects {resolved.key(0)!r}; "
        f"every Ray node must run the same Loupe checkout (featurevis code version {CODE_VERSION!r} here)"
    )


def test_a_bug_on_a_worker_surfaces_with_its_traceback(tiny, monkeypatch):
    import analysis.microscope.featurevis.render

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    fake = FakeRay(
        monkeypatch,
        worker_patch=lambda worker: worker.setattr(analysis.microscope.featurevis.render, "render_units", broken),
    )
    monkeypatch.setitem(sys.modules, "ray", fake)
    with pytest.raises(ZeroDivisionError, match="a bug") as error:
        main([*RENDER, "--units", "0-2", "--batch", "1", "--engine", "ray"])
    assert not isinstance(error.value, AnalysisInputError)
    assert fake.calls.count(("cancel",)) == 2  # the other tasks are not left running


@pytest.mark.parametrize(
    "failure",
    [ConnectionError("Failed to connect to GCS at address 10.9.9.9:6379"), TimeoutError("Timed out after 60 seconds")],
)
def test_an_unreachable_cluster_is_one_line_naming_the_address(tiny, monkeypatch, capsys, failure):
    monkeypatch.setenv("RAY_ADDRESS", "10.9.9.9:6379")
    fake = FakeRay(monkeypatch)

    def refuse(**kwargs):
        raise failure

    monkeypatch.setattr(fake, "init", refuse)
    monkeypatch.setitem(sys.modules, "ray", fake)
    assert main([*RENDER, "--units", "0", "--engine", "ray"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(errors) == 1  # one line, no traceback
    assert errors[0].startswith("error: could not connect to the Ray cluster at RAY_ADDRESS='10.9.9.9:6379' (")
    assert str(failure) in errors[0] and "unset RAY_ADDRESS" in errors[0]
