"""The static Microscope site: every unit has a page, links resolve inside the site, re-exports are incremental.

One tiny CNN (16x16, conv1 and conv2 of 8 units each) is registered and precomputed once per module:
every conv1 unit rendered, conv2 not rendered (pending), dataset examples and unit pages for both
layers, conv2's connections from conv1. The references are independent: links are checked
by parsing the HTML with the standard library's parser and looking for each target on disk; hashes
with hashlib; "nothing written" by the files' modification times.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest

from analysis.errors import AnalysisInputError
from analysis.microscope import site_export
from analysis.microscope.site_export import SiteExportSpec, export_site, published_unit_path
from analysis.paths import open_result_store
from cache import JSON, PNG, ResultStore
from tests.analysis.microscope.site_support import LAYERS, MODEL_ID, STEPS, build_precomputed_model, render

CONV2_PENDING = tuple(range(8))


@pytest.fixture(scope="module")
def precomputed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's Loupe home (registry and result store) with the tiny model precomputed."""
    root = tmp_path_factory.mktemp("site-model")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOUPE_HOME", str(root / "home"))
        patch.delenv("LOUPE_CACHE_DIR", raising=False)
        build_precomputed_model(root, rendered={"conv1": tuple(range(8))})
    return root / "home"


@pytest.fixture
def home(precomputed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The precomputed home, with a private copy of its result store (a test may add to it)."""
    cache = tmp_path / "cache"
    shutil.copytree(precomputed / "cache", cache)
    monkeypatch.setenv("LOUPE_HOME", str(precomputed))
    monkeypatch.setenv("LOUPE_CACHE_DIR", str(cache))
    return precomputed


def export(out: Path, **options) -> object:
    return export_site(SiteExportSpec(model_id=MODEL_ID, out=out, steps=STEPS, **options))


class Links(HTMLParser):
    """Every href/src of a page, and a meta refresh's target."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.canonical: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and values.get("rel") == "canonical":
            self.canonical.append(values["href"] or "")
            return
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(values[name])
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            self.links.append((values.get("content") or "").split("url=", 1)[1])


def parse(page: Path) -> Links:
    links = Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def site_files(out: Path) -> dict[str, Path]:
    return {path.relative_to(out).as_posix(): path for path in out.rglob("*") if path.is_file()}


def test_every_unit_has_a_page_and_every_link_stays_inside_the_site(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = export(out)
    revision = result.revision[:12]
    files = site_files(out)
    for layer, units in (("conv1", 8), ("pool1", 8), ("conv2", 8), ("gap", 8), ("logits", 3)):
        for unit in range(units):
            assert f"models/{MODEL_ID}/{revision}/{layer}/{unit}.html" in files
            assert f"models/{MODEL_ID}/latest/{layer}/{unit}.html" in files
        assert f"models/{MODEL_ID}/{revision}/{layer}/index.html" in files
    pages = [path for name, path in files.items() if name.endswith(".html")]
    assert len(pages) == 2 * (8 + 8 + 8 + 8 + 3 + 5 + 1) + 1  # units, layer pages, revision index; latest; root
    for page in pages:
        parsed = parse(page)
        assert parsed.canonical == []  # no base URL given
        for link in parsed.links:
            assert not urlsplit(link).scheme and not link.startswith("//"), f"{page}: {link}"
            target = (page.parent / unquote(urlsplit(link).path)).resolve()
            assert target.is_file(), f"{page.relative_to(out)} links to missing {link}"
            assert target.is_relative_to(out.resolve())
    for name, path in files.items():
        if name.endswith((".html", ".css", ".json")):
            assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", path.read_text(encoding="utf-8")), name
        if name.endswith(".png"):
            assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_the_manifest_lists_every_file_with_its_sha256(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export(out)
    manifest = json.loads((out / "manifest.json").read_text())
    files = site_files(out)
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    for name, entry in manifest["files"].items():
        data = files[name].read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_every_file_can_be_read_by_a_web_server_running_as_another_user(home: Path, tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask; tempfile alone would leave every file 0600
    try:
        export(tmp_path / "site")
    finally:
        os.umask(previous)
    modes = {name: stat.S_IMODE(path.stat().st_mode) for name, path in site_files(tmp_path / "site").items()}
    assert {name: mode for name, mode in modes.items() if mode != 0o644} == {}


def test_a_unit_page_fetches_its_visualization_first_and_the_rest_lazily(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    revision = export(out).revision[:12]
    text = (out / f"models/{MODEL_ID}/{revision}/conv1/1.html").read_text()
    images = re.findall(r"<img [^>]*>", text)
    assert len(images) > 2 and 'class="vis"' in images[0] and 'fetchpriority="high"' in images[0]
    assert all('loading="lazy"' in image for image in images[1:]), images  # thumbnails, histogram, tiles


def test_a_unit_page_shows_the_apps_content(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = export(out, app_url="http://127.0.0.1:8501/")
    revision = result.revision[:12]
    rendered = (out / f"models/{MODEL_ID}/{revision}/conv1/1.html").read_text()
    assert "Feature visualization" in rendered and "<h3>Channel</h3>" in rendered and f"{STEPS} steps" in rendered
    text = (out / f"models/{MODEL_ID}/{revision}/conv2/1.html").read_text()
    assert "Not rendered yet" in text
    assert "40 examples of" in text and "ranked by the unit's channel mean" in text
    assert text.count('<div class="thumbs">') == 2 or "examples at" in text  # strongest, weakest (or ties)
    assert 'class="histogram"' in text and "Download unit data (JSON)" in text
    assert "Connections" in text and "From conv1, by expanded weights" in text
    assert re.search(r'href="\.\./conv1/\d\.html"', text)  # a connection links to its source unit's page
    assert not re.search(r'src="\.\./conv1/', text)  # ... and shows its image from conv2's own folder
    app = f"http://127.0.0.1:8501/microscope?model={MODEL_ID}&amp;layer=conv2&amp;unit=1&amp;rev={revision}"
    assert app in text
    data = json.loads((out / f"models/{MODEL_ID}/{revision}/conv2/1.json").read_text())
    assert data["model"] == MODEL_ID and data["layer"] == "conv2" and data["unit"] == 1


def test_pending_units_are_placeholders_listed_on_the_layer_page_and_in_the_result(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = export(out, layers=("conv1", "conv2"))
    assert result.pending == {"conv1": (), "conv2": CONV2_PENDING}
    assert result.to_dict()["pending"] == {"conv2": list(CONV2_PENDING)}
    grid = (out / f"models/{MODEL_ID}/{result.revision[:12]}/conv2/index.html").read_text()
    assert "8 units were not rendered yet: 0-7" in grid
    assert grid.count('<span class="badge">example</span>') == len(CONV2_PENDING)
    assert grid.count('class="tile"') == 8
    with pytest.raises(AnalysisInputError, match=r"not complete \(conv2: 8 units not rendered\)"):
        export(tmp_path / "strict", layers=("conv1", "conv2"), require_complete=True)
    assert not (tmp_path / "strict").exists()
    assert export(tmp_path / "conv1-only", layers=("conv1",), require_complete=True).pending == {"conv1": ()}


def test_reexport_with_nothing_changed_writes_nothing_and_reads_no_entry(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    first = export(out, layers=LAYERS)
    before = {name: path.stat().st_mtime_ns for name, path in site_files(out).items()}
    reads: list[str] = []
    original = ResultStore.get
    monkeypatch.setattr(ResultStore, "get", lambda self, key, codec: reads.append(key) or original(self, key, codec))
    keyed: list[str] = []
    real_keys = site_export.layer_keys
    monkeypatch.setattr(site_export, "layer_keys", lambda *a, **k: keyed.append(a[1].name) or real_keys(*a, **k))
    again = export(out, layers=LAYERS)
    assert reads == [] and keyed == []  # no entry read, no key computed: the store's fingerprint is unchanged
    assert again.written == () and again.removed == () and not again.manifest_written
    assert again.kept_layers == LAYERS and again.unchanged == len(first.written)
    assert {name: path.stat().st_mtime_ns for name, path in site_files(out).items()} == before
    open_result_store().put("another-analysis", {"x": 1}, JSON)  # the store changed, not these layers' entries
    elsewhere = export(out, layers=LAYERS)
    assert reads == [] and set(keyed) == {"conv1", "conv2"}  # keys and versions from the index only
    assert elsewhere.kept_layers == LAYERS and elsewhere.written == () and elsewhere.manifest_written
    monkeypatch.setattr(ResultStore, "get", original)
    with monkeypatch.context() as patch:  # a change to the page templates' code: every layer is planned again
        patch.setattr("analysis.microscope.site_export.template_version", lambda: "edited")
        replanned = export(out, layers=LAYERS)
    assert replanned.kept_layers == () and replanned.written == () and replanned.manifest_written
    assert export(out, layers=LAYERS).kept_layers == ()  # the templates' real version differs again
    assert export(out, layers=LAYERS).kept_layers == LAYERS


def _entry_keys(layer: str, prefix: str) -> list[str]:
    """The keys of ``layer``'s pages that start with ``prefix``, in unit order (the export's own key list)."""
    from analysis.microscope.site_layers import layer_keys
    from analysis.models.registry import ModelRegistry

    registry = ModelRegistry()
    revision = registry.resolve(MODEL_ID)
    found = layer_keys(revision, revision.summary.layer(layer), dataset_linked=True, steps=STEPS, registry=registry)
    return [key for key in found.keys if key.startswith(prefix) or key.endswith(prefix)]


def test_a_changed_entry_rewrites_its_layer_only(home: Path, tmp_path: Path) -> None:
    from analysis.microscope.unit_pages import PAGE_ANALYSIS

    out = tmp_path / "site"
    first = export(out, layers=LAYERS)
    folder = f"models/{MODEL_ID}/{first.revision[:12]}"
    store = open_result_store()
    key = _entry_keys("conv2", f"{PAGE_ANALYSIS}-")[5]  # conv2 unit 5's page entry
    entry = store.get(key, JSON)
    assert entry["unit"] == 5
    store.put(key, entry | {"dataset_name": "renamed.npz"}, JSON)
    second = export(out, layers=LAYERS)
    assert second.kept_layers == ("conv1",)
    assert sorted(second.written) == [f"{folder}/conv2/5.html", f"{folder}/conv2/5.json"]
    assert "40 examples of renamed.npz" in (out / folder / "conv2/5.html").read_text()
    # a rendering's image entry alone: conv1 is planned again, and conv2, whose connections show conv1's tiles
    key = _entry_keys("conv1", "/image")[3]
    image = np.zeros((16, 16, 3), np.uint8)
    image[4:12, 4:12] = 255
    store.put(key, image, PNG)
    third = export(out, layers=LAYERS)
    png = f"{folder}/conv1/img/{hashlib.sha256(PNG.encode(image)).hexdigest()[:16]}.png"
    assert third.kept_layers == () and png in third.written and f"{folder}/conv1/3.html" in third.written
    assert all(p.startswith((f"{folder}/conv1/", f"{folder}/conv2/")) for p in third.written)
    assert (out / png).read_bytes() == PNG.encode(image)
    assert png.replace("/conv1/", "/conv2/") in third.written  # conv2's connection tile of conv1 unit 3
    old = {PurePosixPath(p).name for p in third.removed}  # the old image, from both layers' folders
    assert len(old) == 1 and sorted(third.removed) == [f"{folder}/{layer}/img/{min(old)}" for layer in LAYERS]


def test_a_changed_option_rewrites_every_page(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export(out, layers=LAYERS)
    pages = {name for name in site_files(out) if name.endswith(".html")}
    with_base = export(out, layers=LAYERS, base_url="https://example.org/site")
    assert with_base.kept_layers == () and pages <= set(with_base.written) and "sitemap.xml" in with_base.written
    with_app = export(out, layers=LAYERS, app_url="http://127.0.0.1:8501")
    written = set(with_app.written)
    assert with_app.kept_layers == () and {p for p in pages if "/conv" in p and "/latest/" not in p} <= written
    assert all(p.endswith(".html") and "/conv" in p for p in written)  # the pages that link to the app
    assert export(out, layers=LAYERS, app_url="http://127.0.0.1:8501").written == ()


def test_a_source_layer_joining_the_site_rewrites_the_connection_links(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    alone = export(out, layers=("conv2",))
    page = out / f"models/{MODEL_ID}/{alone.revision[:12]}/conv2/1.html"
    assert not re.search(r'href="\.\./conv1/\d\.html"', page.read_text())  # conv1 is not in the site yet
    both = export(out, layers=LAYERS)
    assert both.kept_layers == () and str(page.relative_to(out)) in both.written
    assert re.search(r'href="\.\./conv1/\d\.html"', page.read_text())


def test_files_deleted_or_edited_in_the_site_are_restored(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = export(out, layers=LAYERS)
    folder = f"models/{MODEL_ID}/{first.revision[:12]}"
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    image = next(p for p in manifest if p.startswith(f"{folder}/conv1/img/"))
    deleted = [f"{folder}/conv1/3.html", image]
    edited = [f"{folder}/conv2/4.html", f"models/{MODEL_ID}/latest/conv2/4.html", "index.html"]
    for path in deleted:
        (out / path).unlink()
    for path in edited:  # the same size: only the content differs
        text = (out / path).read_text()
        (out / path).write_text(text.replace("<title>", "<titlX>", 1))
        assert (out / path).stat().st_size == manifest[path]["bytes"]
    again = export(out, layers=LAYERS)
    assert sorted(again.written) == sorted(deleted + edited)
    for path in deleted + edited:
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == manifest[path]["sha256"]
    assert export(out, layers=LAYERS).written == ()


def test_a_changed_layer_rewrites_only_that_layers_pages(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = export(out, layers=LAYERS)
    revision = first.revision[:12]
    render({"conv2": CONV2_PENDING})  # conv2's cache changes; conv1's does not
    second = export(out, layers=LAYERS)
    assert second.pending == {"conv1": (), "conv2": ()}
    layer_dir = f"models/{MODEL_ID}/{revision}/conv2/"
    outside = [p for p in second.written if not p.startswith(layer_dir)]
    assert outside == [f"models/{MODEL_ID}/{revision}/index.html"]  # it lists conv2's pending count
    for unit in CONV2_PENDING:
        assert f"{layer_dir}{unit}.html" in second.written
    assert f"{layer_dir}index.html" in second.written
    assert second.removed == () and second.manifest_written


def test_a_layer_exported_alone_keeps_the_rest_of_the_site(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = export(out, layers=LAYERS)
    revision = first.revision[:12]
    again = export(out, layers=("conv1",))
    assert again.written == ()
    assert export(out, layers=("conv2",)).written == ()  # its connection tiles do not depend on conv1's export
    assert (out / f"models/{MODEL_ID}/{revision}/conv2/index.html").is_file()
    index = (out / f"models/{MODEL_ID}/{revision}/index.html").read_text()
    assert 'href="conv1/index.html"' in index and 'href="conv2/index.html"' in index


def test_base_url_gives_canonical_links_and_a_sitemap(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    base = "https://example.org/loupe"
    result = export(out, layers=("conv1",), base_url=base + "/")
    revision = result.revision[:12]
    unit = f"models/{MODEL_ID}/{revision}/conv1/3.html"
    assert parse(out / unit).canonical == [f"{base}/{unit}"]
    assert parse(out / f"models/{MODEL_ID}/latest/conv1/3.html").canonical == [f"{base}/{unit}"]
    sitemap = (out / "sitemap.xml").read_text()
    locations = re.findall(r"<loc>(.*?)</loc>", sitemap)
    assert f"{base}/{unit}" in locations and f"{base}/index.html" in locations
    assert not any("/latest/" in loc for loc in locations)
    assert len(locations) == 1 + 1 + 1 + 8  # root, revision index, layer page, units
    with pytest.raises(AnalysisInputError, match=re.escape("uses base URL 'https://example.org/loupe'")):
        export(out, layers=("conv1",), base_url="https://other.example")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model_id": "nope"}, r"unknown model 'nope'; registered models are 'tiny-site'"),
        ({"layers": ("conv9",)}, r"unknown layer 'conv9'; layers with units are 'conv1', 'pool1'"),
        ({"revision": "abcdef12"}, r"has no revision 'abcdef12'; its revisions are '[0-9a-f]{12}'"),
        ({"revision": "zz"}, r"revision 'zz' is not a hash prefix"),
        ({"base_url": "example.org"}, r"base URL 'example.org' must be an http:// or https:// URL"),
        ({"layers": ("conv1", "conv1")}, r"layer 'conv1' is listed more than once"),
    ],
)
def test_bad_input_names_the_value_and_the_valid_ones(home: Path, tmp_path: Path, options: dict, message: str) -> None:
    spec = {"model_id": MODEL_ID, "out": tmp_path / "site", "steps": STEPS} | options
    with pytest.raises(AnalysisInputError, match=message):
        export_site(SiteExportSpec(**spec))
    assert not (tmp_path / "site").exists()


def test_a_folder_that_is_not_a_loupe_site_is_refused_unless_forced(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"not a site")
    with pytest.raises(AnalysisInputError, match=r"holds files but no Loupe site .* pass --force"):
        export(out, layers=("conv1",))
    assert sorted(p.name for p in out.iterdir()) == ["holiday.jpg"]
    export(out, layers=("conv1",), force=True)
    assert (out / "holiday.jpg").read_bytes() == b"not a site" and (out / "manifest.json").is_file()
    export(out, layers=("conv1",))  # now a Loupe site: no --force needed
    (tmp_path / "file").write_text("x")
    with pytest.raises(AnalysisInputError, match="is a file"):
        export(tmp_path / "file", layers=("conv1",))


def test_the_app_finds_a_published_unit_page(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = export(out, layers=("conv1",))
    found = published_unit_path(out, MODEL_ID, result.revision, "conv1", 2)
    assert found == f"models/{MODEL_ID}/{result.revision[:12]}/conv1/2.html" and (out / found).is_file()
    assert published_unit_path(out, MODEL_ID, result.revision, "conv2", 2) is None
    assert published_unit_path(tmp_path / "nowhere", MODEL_ID, result.revision, "conv1", 2) is None
    assert PurePosixPath(found).parts[2] == result.revision[:12]


def test_a_dense_layer_lists_examples_as_rows_and_counts_the_ties(loupe_home: Path, tmp_path: Path) -> None:
    """Hand-set weights: unit 0 = relu(x0 - 0.5), unit 1 = relu(x1); the ties at 0 are counted with numpy."""
    import keras
    import numpy as np

    from analysis.datasets import DatasetRole
    from analysis.microscope.dataset_examples import DatasetExamplesSpec
    from analysis.microscope.unit_pages import compute_unit_pages
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    inputs = keras.Input((3,), name="features")
    dense = keras.layers.Dense(2, activation="relu", name="dense")
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="out")(dense(inputs)))
    dense.set_weights([np.array([[1, 0], [0, 1], [0, 0]], np.float32), np.array([-0.5, 0], np.float32)])
    model.save(tmp_path / "dense.keras")
    x = np.random.default_rng(0).uniform(0, 1, (60, 3)).astype(np.float32)
    np.savez(tmp_path / "data.npz", x=x, y=(x[:, 2] > 0.5).astype(np.int64))
    ModelRegistry().register(
        RegisterModelSpec(
            path=tmp_path / "dense.keras", model_id="dense", datasets={DatasetRole.DATA: tmp_path / "data.npz"}
        )
    )
    compute_unit_pages(DatasetExamplesSpec(model_id="dense", layer="dense"))
    result = export_site(SiteExportSpec(model_id="dense", out=tmp_path / "site", layers=("dense",)))
    assert result.pending == {"dense": ()} and result.examples_missing == {"dense": ()}
    folder = tmp_path / "site" / f"models/dense/{result.revision[:12]}/dense"
    tied = (folder / "0.html").read_text()
    assert "Feature visualization" not in tied and "ranked by the unit's activation" in tied
    assert f"<strong>{int((x[:, 0] <= 0.5).sum())} examples at 0</strong>" in tied
    rows = (folder / "1.html").read_text()  # examples as rows of features, beside the data set's medians
    top = int(np.argmax(x[:, 1]))
    assert f"<th>feature</th><th>typical (median)</th><th>#{top} ({x[:, 1].max():.3g})</th>" in rows
    median = f"{np.median(x[:, 1]):.3g}"
    assert f'<td>feature 1</td><td class="num">{median}</td><td class="num">{x[top, 1]:.3g}</td>' in rows
    assert "img" not in (folder / "index.html").read_text().split('class="grid"')[1]  # text tiles, no images
