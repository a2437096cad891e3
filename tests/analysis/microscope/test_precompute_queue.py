"""The precompute queue: enqueue on register, leases, revisions, priority; and a worker's run end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.microscope.precompute_queue import (
    PRIORITY_VISITOR,
    JobKind,
    JobState,
    LayerWork,
    PrecomputeQueue,
)

LAYERS = [LayerWork(layer="conv", units=4, render=True, examples=True)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(tmp_path: Path, clock: Clock) -> PrecomputeQueue:
    return PrecomputeQueue(tmp_path / "home", clock=clock)


def test_examples_first_then_a_batch_of_one_layer(queue: PrecomputeQueue) -> None:
    assert queue.enqueue_model("m", "rev1", LAYERS) == 5
    assert queue.enqueue_model("m", "rev1", LAYERS) == 0  # idempotent
    first = queue.claim("a")
    assert first is not None and first.kind is JobKind.EXAMPLES and first.units == ()
    second = queue.claim("a", max_units=3)
    assert second is not None and second.kind is JobKind.RENDER and second.units == (0, 1, 2)
    queue.complete(second, seconds=6.0)
    status = queue.status("m", "rev1", "conv")
    assert (status.done, status.queued, status.running) == (3, 1, 0)
    assert status.seconds_per_unit == pytest.approx(2.0)
    assert status.eta_seconds == pytest.approx(2.0)


def test_a_killed_workers_jobs_are_claimed_again_when_its_lease_expires(queue: PrecomputeQueue, clock: Clock) -> None:
    queue.enqueue_model("m", "rev1", [LayerWork(layer="conv", units=2, render=True, examples=False)])
    dead = queue.claim("dead-worker", lease_seconds=60)
    assert dead is not None and dead.units == (0, 1)
    assert queue.claim("other") is None  # held under a live lease
    clock.now += 61  # the worker was killed: nobody renewed its lease
    resumed = queue.claim("other")
    assert resumed is not None and resumed.units == (0, 1) and resumed.owner == "other"
    queue.complete(resumed, seconds=1.0)
    queue.complete(dead, seconds=1.0)  # a late report from the lost claim changes nothing
    assert queue.states("rev1", "conv") == {0: JobState.DONE, 1: JobState.DONE}
    assert not queue.renew(dead)


def test_a_job_whose_worker_keeps_dying_fails_instead_of_looping(queue: PrecomputeQueue, clock: Clock) -> None:
    queue.enqueue_model("m", "rev1", [LayerWork(layer="conv", units=1, render=True, examples=False)])
    for _ in range(3):
        assert queue.claim("w", lease_seconds=1) is not None
        clock.now += 2
    assert queue.claim("w") is None
    assert queue.states("rev1", "conv") == {0: JobState.FAILED}


def test_a_queued_model_replaced_by_a_new_revision_drops_its_old_jobs(queue: PrecomputeQueue) -> None:
    queue.enqueue_model("m", "rev1", LAYERS)
    queue.enqueue_model("m", "rev2", LAYERS)
    assert set(queue.states("rev1", "conv").values()) == {JobState.DROPPED}
    claim = queue.claim("a", current_revision=lambda model_id: "rev2")
    assert claim is not None and claim.revision == "rev2"


def test_a_worker_skips_jobs_of_a_revision_that_is_no_longer_current(queue: PrecomputeQueue) -> None:
    queue.enqueue_model("m", "rev1", LAYERS)  # e.g. re-registered by a process that did not queue
    assert queue.claim("a", current_revision=lambda model_id: "rev2") is None
    assert set(queue.states("rev1", "conv").values()) == {JobState.DROPPED}


def test_a_visitors_unit_jumps_the_queue_and_is_rendered_alone(queue: PrecomputeQueue) -> None:
    queue.enqueue_model("m", "rev1", LAYERS)
    queue.request_unit("m", "rev1", "conv", 3)
    claim = queue.claim("a", max_units=32)
    assert claim is not None and claim.units == (3,) and claim.priority == PRIORITY_VISITOR
    assert queue.claim("a").kind is JobKind.EXAMPLES  # then the queue's own order


def test_registering_a_model_queues_every_unit_of_every_layer(
    loupe_home: Path, tiny_cnn_path: Path, tiny_dataset_path: Path
) -> None:
    from analysis.cli.main import main

    assert main(["models", "add", str(tiny_cnn_path), "--id", "tiny", "--data", str(tiny_dataset_path)]) == 0
    from analysis.models.registry import ModelRegistry

    record = ModelRegistry().get("tiny")
    queue = PrecomputeQueue()
    for layer in record.current.summary.layers:
        assert queue.states(record.current.revision, layer.name) == dict.fromkeys(range(layer.units), JobState.QUEUED)
        assert queue.states(record.current.revision, layer.name, JobKind.EXAMPLES) == {-1: JobState.QUEUED}


def test_a_killed_render_leaves_no_partial_entry(loupe_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker dies between a rendering's image and its metadata: nothing is readable, the job comes back."""
    from analysis.microscope.featurevis import RenderSpec, load_cached_rendering
    from analysis.microscope.featurevis import cached as cached_module
    from analysis.microscope.precompute_worker import execute_claim
    from tests.analysis.microscope.featurevis_support import register_small_cnn

    record = register_small_cnn(loupe_home.parent, size=16)
    clock = Clock()
    queue = PrecomputeQueue(clock=clock)
    queue.enqueue_model(
        "small-cnn", record.current.revision, [LayerWork(layer="conv2", units=1, render=True, examples=False)]
    )
    claim = queue.claim("doomed", lease_seconds=30)

    def die_after_image(store, rendering) -> None:
        store.put(f"{rendering.cache_key}/image", rendering.image, cached_module.PNG)
        raise SystemExit("killed")  # what a SIGKILL between the two writes would leave

    monkeypatch.setattr("analysis.microscope.featurevis.render.write_rendering", die_after_image)
    with pytest.raises(SystemExit):
        execute_claim(claim)
    spec = RenderSpec(model_id="small-cnn", layer="conv2", units=(0,), revision=record.current.revision)
    assert load_cached_rendering(spec) is None
    clock.now += 31
    assert queue.claim("next").units == (0,)


def test_layers_that_make_features_render_before_pass_through_layers(queue: PrecomputeQueue) -> None:
    summary_layers = [
        LayerWork(layer="conv1", units=1, render=True, examples=True),
        LayerWork(layer="pool1", units=1, render=True, examples=True, pass_through=True),
        LayerWork(layer="conv2", units=1, render=True, examples=True),
    ]
    queue.enqueue_model("m", "rev1", summary_layers)
    order = []
    while (claim := queue.claim("w")) is not None:
        order.append(f"{claim.kind}:{claim.layer}")
        queue.complete(claim, seconds=1.0)
    assert order == [
        "examples:conv1",
        "examples:conv2",
        "render:conv1",
        "render:conv2",
        "examples:pool1",
        "render:pool1",
    ]


def test_layer_work_marks_pooling_and_normalization_as_pass_through() -> None:
    from analysis.microscope.precompute_queue import layer_work
    from analysis.models.summary import LayerInfo

    layers = (
        LayerInfo(name="c", kind="Conv2D", output_shape=(8, 8, 4), units=4),
        LayerInfo(name="bn", kind="BatchNormalization", output_shape=(8, 8, 4), units=4),
        LayerInfo(name="p", kind="MaxPooling2D", output_shape=(4, 4, 4), units=4),
        LayerInfo(name="cat", kind="Concatenate", output_shape=(4, 4, 8), units=8),
    )

    class Summary:  # only what layer_work reads
        input_shape = (8, 8, 1)

    Summary.layers = layers
    work = {w.layer: w.pass_through for w in layer_work(Summary(), has_data=False)}
    assert work == {"c": False, "bn": True, "p": True, "cat": False}
