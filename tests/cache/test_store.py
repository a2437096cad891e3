"""The result store's guarantees: compute once, no partial entries, corruption detected, bounded."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from cache import JSON, NPZ, ResultStore


def test_get_or_compute_computes_once_then_serves(tmp_path: Path):
    store = ResultStore(tmp_path)
    calls = []
    first = store.get_or_compute("k", lambda: calls.append(1) or {"v": 1}, JSON)
    second = store.get_or_compute("k", lambda: calls.append(1) or {"v": 2}, JSON)
    assert (first.value, first.from_cache) == ({"v": 1}, False)
    assert (second.value, second.from_cache) == ({"v": 1}, True)
    assert len(calls) == 1


def _slow_compute_worker(directory: str, log: str, barrier_file: str) -> None:
    while not Path(barrier_file).exists():  # start both workers together
        time.sleep(0.01)
    store = ResultStore(Path(directory))

    def compute() -> dict:
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(1.0)
        return {"pid": os.getpid()}

    fetched = store.get_or_compute("shared-key", compute, JSON)
    with open(log + ".results", "a") as handle:
        handle.write(f"{fetched.value['pid']} {fetched.from_cache}\n")


def test_two_processes_compute_once(tmp_path: Path):
    context = multiprocessing.get_context("spawn")
    log, barrier = str(tmp_path / "computed.log"), str(tmp_path / "go")
    workers = [context.Process(target=_slow_compute_worker, args=(str(tmp_path / "c"), log, barrier)) for _ in range(2)]
    for worker in workers:
        worker.start()
    Path(barrier).touch()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert len(Path(log).read_text().split()) == 1  # computed by one process only
    results = Path(log + ".results").read_text().split("\n")[:2]
    assert {r.split()[0] for r in results} == {Path(log).read_text().strip()}  # both got the same value
    assert sorted(r.split()[1] for r in results) == ["False", "True"]


def _killed_worker(directory: str, started: str) -> None:
    store = ResultStore(Path(directory))

    def compute() -> dict:
        Path(started).touch()
        time.sleep(60)
        return {"never": True}

    store.get_or_compute("victim", compute, JSON)


def test_kill_mid_computation_leaves_no_entry_and_no_stuck_lock(tmp_path: Path):
    context = multiprocessing.get_context("spawn")
    started = tmp_path / "started"
    worker = context.Process(target=_killed_worker, args=(str(tmp_path / "c"), str(started)))
    worker.start()
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(10)
    store = ResultStore(tmp_path / "c")
    assert not store.contains("victim")
    fetched = store.get_or_compute("victim", lambda: {"recomputed": True}, JSON)  # the lock was released
    assert fetched.value == {"recomputed": True} and not fetched.from_cache


def test_corrupt_entry_is_detected_and_recomputed(tmp_path: Path):
    store = ResultStore(tmp_path)
    store.put("k", {"v": 1}, JSON)
    store._cache.set("k", b"LOUPE\x01" + b"\x00" * 40 + b"garbage")  # simulate on-disk damage
    assert store.get("k", JSON) is None
    assert store.stats().corrupt_dropped == 1
    fetched = store.get_or_compute("k", lambda: {"v": 2}, JSON)
    assert fetched.value == {"v": 2} and not fetched.from_cache


def test_bit_flip_in_a_large_file_entry_is_detected(tmp_path: Path):
    store = ResultStore(tmp_path)
    store.put("big", {"w": np.arange(100_000, dtype=np.float64)}, NPZ)  # > 32 KiB: stored as its own file
    files = [p for p in (tmp_path / "entries").rglob("*.val")]
    assert len(files) == 1
    data = bytearray(files[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    files[0].write_bytes(bytes(data))
    assert store.get("big", NPZ) is None
    assert not store.contains("big")


def test_entry_of_another_codec_is_not_served(tmp_path: Path):
    store = ResultStore(tmp_path)
    store.put("k", {"v": 1}, JSON)
    assert store.get("k", NPZ) is None


def test_size_bound_evicts_least_recently_used(tmp_path: Path):
    limit = 400_000
    store = ResultStore(tmp_path, size_limit_bytes=limit)
    rng = np.random.default_rng(0)
    for index in range(20):
        store.put(f"entry-{index}", {"noise": rng.integers(0, 255, 50_000, dtype=np.uint8)}, NPZ)
    stats = store.stats()
    assert stats.volume_bytes <= limit + 60_000  # diskcache culls after the write that crossed the bound
    assert not store.contains("entry-0")
    assert store.contains("entry-19")


def test_failed_computation_stores_nothing(tmp_path: Path):
    store = ResultStore(tmp_path)

    def explode() -> dict:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        store.get_or_compute("k", explode, JSON)
    assert not store.contains("k")


def test_versions_change_with_the_entry_without_reading_it(tmp_path: Path):
    """Small entries: their SHA-256 (hashlib over the codec name and payload); large ones: a new file per store."""
    import hashlib

    from cache.codecs import JSON as json_codec

    store = ResultStore(tmp_path)
    store.put("small", {"v": 1}, JSON)
    store.put("big", {"w": np.arange(100_000, dtype=np.float64)}, NPZ)  # > 32 KiB: its own file
    many = [f"k{i}" for i in range(1_200)]  # more keys than one query takes
    for key in many[::100]:
        store.put(key, {"k": key}, JSON)
    first = store.versions(["small", "big", "absent", *many])
    assert set(first) == {"small", "big", *many[::100]}  # absent keys are left out
    digest = hashlib.sha256(b"json\0" + json_codec.encode({"v": 1})).hexdigest()
    assert first["small"].lower().startswith(digest)
    reads = []
    original = store._cache.get
    store._cache.get = lambda *a, **k: reads.append(a) or original(*a, **k)
    assert store.versions(["small", "big"]) == {"small": first["small"], "big": first["big"]} and reads == []
    store.put("small", {"v": 1}, JSON)  # the same content: the same token
    store.put("big", {"w": np.arange(100_000, dtype=np.float64)}, NPZ)  # stored again: a new file
    again = store.versions(["small", "big"])
    assert again["small"] == first["small"] and again["big"] != first["big"]
    store.put("small", {"v": 2}, JSON)
    assert store.versions(["small"])["small"] != first["small"]
    store.delete("small")
    assert store.versions(["small"]) == {}


def test_fingerprint_changes_when_any_entry_changes_and_not_when_read(tmp_path: Path):
    store = ResultStore(tmp_path)
    empty = store.fingerprint()
    store.put("a", {"v": 1}, JSON)
    store.put("b", {"w": np.arange(100_000, dtype=np.float64)}, NPZ)
    seen = [empty, store.fingerprint()]
    assert store.get("a", JSON) == {"v": 1} and store.get("b", NPZ) is not None
    assert store.fingerprint() == seen[-1]  # reads change nothing
    store.put("a", {"v": 1}, JSON)  # stored again, same content
    seen.append(store.fingerprint())
    store.put("b", {"w": np.arange(100_000, dtype=np.float64)}, NPZ)
    seen.append(store.fingerprint())
    store.delete("a")
    seen.append(store.fingerprint())
    assert ResultStore(tmp_path).fingerprint() == seen[-1]  # another handle on the same store agrees
    assert len(set(seen)) == len(seen)
