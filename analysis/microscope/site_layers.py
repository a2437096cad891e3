"""One layer of the static site: what the result store holds for it, and its grid and unit pages.

:func:`collect_layer` reads only the result store (no TensorFlow, no data set): each unit's cached
renderings for every per-unit technique the layer offers (the app's defaults, so the site shows
what the app shows), the layer's DeepDream if cached, the precomputed unit-page entries
(thumbnails with overlays, histogram, ranked examples), the grid's example tiles and the cached
connections. :func:`layer_files` turns that into HTML pages and content-addressed PNGs
(``<layer>/img/<sha256[:16]>.png``: an unchanged image keeps its name, shared images are stored once).

:func:`layer_keys` lists the result store keys a layer's pages are made from without reading any
value (it runs :func:`collect_layer` against a store that holds nothing and notes each key asked
for); the export digests them with the entries' versions to skip layers whose inputs are unchanged.

Pending rule: a unit of an image model without its ``channel`` rendering is *pending*. Its grid
tile shows its strongest dataset example marked "example" (or an empty tile marked "pending" when
no examples are computed), the layer page lists the pending units, and the export's JSON does too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np

from analysis.errors import AnalysisInputError
from analysis.microscope.circuits import ANALYSIS_NAME as CONNECTIONS_ANALYSIS
from analysis.microscope.circuits import (
    ConnectionMethod,
    ConnectionsResult,
    ConnectionsSpec,
    load_cached_connections,
    resolve_from_layer,
)
from analysis.microscope.dataset_examples import DatasetExamplesSpec
from analysis.microscope.featurevis import RenderSpec, load_cached_rendering, load_cached_renderings
from analysis.microscope.featurevis.spec import ObjectiveKind, UnitRendering
from analysis.microscope.site_pages import Crumb, esc, page, relative, table, thumbnails, tile
from analysis.microscope.techniques import Technique, techniques_for
from analysis.microscope.unit_pages import UnitPage, load_layer_tiles, load_unit_page
from analysis.models.registry import ModelRegistry
from analysis.models.revisions import RevisionRecord
from analysis.models.summary import LayerInfo, units_text
from cache import PNG, ResultStore

CONNECTIONS_SHOWN = 8
METHOD_WORDS = {
    ConnectionMethod.WEIGHTS: "expanded weights",
    ConnectionMethod.ATTRIBUTION: "attribution on the linked data set",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Visual:
    """One technique's cached rendering of a unit (or of the layer): its PNGs and caption."""

    technique: Technique
    pngs: tuple[bytes, ...]  # one, or several for diversity
    caption: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureRows:
    """A tabular model's linked data set, for its examples as rows of features (as the app shows them)."""

    names: tuple[str, ...]
    x: np.ndarray = field(repr=False)  # [examples, features]
    medians: np.ndarray = field(repr=False)  # [features]: the "typical" column


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerContent:
    """Everything the result store holds for one layer's pages."""

    layer: LayerInfo
    image_model: bool
    dataset_linked: bool
    visuals: dict[int, tuple[Visual, ...]] = field(default_factory=dict)  # unit -> cached techniques
    deepdream: Visual | None = None
    pages: dict[int, UnitPage] = field(default_factory=dict)
    tiles: dict[int, bytes] = field(default_factory=dict)
    connections: tuple[tuple[ConnectionsResult, str], ...] = ()  # (result, source layer)
    features: FeatureRows | None = None

    @property
    def pending(self) -> tuple[int, ...]:
        """Units of an image model without their channel rendering."""
        if not self.image_model:
            return ()
        return tuple(
            u
            for u in range(self.layer.units)
            if not any(v.technique.kind is ObjectiveKind.CHANNEL for v in self.visuals.get(u, ()))
        )

    @property
    def examples_missing(self) -> tuple[int, ...]:
        """Units whose dataset-examples entry is not computed (only when a data set is linked)."""
        if not self.dataset_linked:
            return ()
        return tuple(u for u in range(self.layer.units) if u not in self.pages)


def _visual(technique: Technique, rendering: UnitRendering) -> Visual:
    parameters = rendering.parameters
    caption = (
        f"{rendering.objective.value} objective, {parameters.get('steps', '?')} steps, "
        f"seed {parameters.get('seed', '?')}; objective value {rendering.activation:.3g}"
    )
    if rendering.n_images > 1:
        caption = f"{rendering.n_images} images optimised together; " + caption
    pngs = tuple(PNG.encode(image) for image in rendering.images)
    return Visual(technique=technique, pngs=pngs, caption=caption, notes=tuple(rendering.notes))


def collect_layer(
    revision: RevisionRecord,
    layer: LayerInfo,
    *,
    dataset_linked: bool,
    steps: int,
    store: ResultStore,
    registry: ModelRegistry,
    tiles_only: bool = False,
    features: FeatureRows | None = None,
) -> LayerContent:
    """Read one layer's cached results; renderings with ``steps`` steps and otherwise the app's defaults.

    ``tiles_only``: just what its grid tiles show (channel renderings, example tiles), for the
    connection tiles of another layer's pages.
    """
    model_id = revision.model_id
    summary = revision.summary
    image_model = len(summary.input_shape) == 3 and summary.input_shape[-1] in (1, 3)
    visuals: dict[int, list[Visual]] = {}
    deepdream = None
    if image_model:
        units = tuple(range(layer.units))
        for technique in techniques_for(layer, dataset_linked=dataset_linked):
            if tiles_only and technique.kind is not ObjectiveKind.CHANNEL:
                continue
            if technique.per_unit:
                spec = RenderSpec(
                    model_id=model_id,
                    layer=layer.name,
                    units=units,
                    objective=technique.kind,
                    revision=revision.revision,
                    steps=steps,
                )
                for unit, rendering in load_cached_renderings(spec, store=store, registry=registry).items():
                    if rendering is not None and unit is not None:
                        visuals.setdefault(unit, []).append(_visual(technique, rendering))
            elif technique.kind is ObjectiveKind.DEEPDREAM:
                spec = RenderSpec(
                    model_id=model_id,
                    layer=layer.name,
                    objective=technique.kind,
                    revision=revision.revision,
                    steps=steps,
                )
                rendering = load_cached_rendering(spec, store=store, registry=registry)
                deepdream = None if rendering is None else _visual(technique, rendering)
    pages: dict[int, UnitPage] = {}
    tiles: dict[int, bytes] = {}
    if dataset_linked:
        examples = DatasetExamplesSpec(model_id=model_id, layer=layer.name, revision=revision.revision)
        for unit in range(0 if tiles_only else layer.units):
            entry = load_unit_page(examples, unit, store=store, registry=registry)
            if entry is not None:
                pages[unit] = entry
        tiles = load_layer_tiles(examples, store=store, registry=registry)
    connections = []
    for method in () if tiles_only else ConnectionMethod:
        try:
            spec = ConnectionsSpec(model_id=model_id, layer=layer.name, method=method, revision=revision.revision)
            found = load_cached_connections(spec, store=store, registry=registry)
        except AnalysisInputError:  # the first layer, or attribution without a data set
            continue
        if found is not None:
            connections.append((found, found.from_layer))
    return LayerContent(
        layer=layer,
        image_model=image_model,
        dataset_linked=dataset_linked,
        visuals={u: tuple(v) for u, v in visuals.items()},
        deepdream=deepdream,
        pages=pages,
        tiles=tiles,
        connections=tuple(connections),
        features=features,
    )


class _KeyRecorder:
    """A result store that holds nothing and notes every key asked for."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def get(self, key: str, codec: object) -> None:
        self.keys.append(key)

    def contains(self, key: str) -> bool:
        self.keys.append(key)
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerKeys:
    """The result store keys one layer's pages read, and the layer its connections come from (if cached)."""

    keys: tuple[str, ...]
    connections: tuple[str, ...]  # the subset that holds the layer's connections
    source: str | None  # the connections' source layer (its tiles show on this layer's unit pages)


def layer_keys(
    revision: RevisionRecord,
    layer: LayerInfo,
    *,
    dataset_linked: bool,
    steps: int,
    registry: ModelRegistry,
    tiles_only: bool = False,
) -> LayerKeys:
    """The keys :func:`collect_layer` reads for ``layer``, found without reading the store.

    A store that answers "absent" to everything stops each reader at its first key; a rendering is
    two entries (``<key>/meta``, read first, and ``<key>/image``, see ``featurevis.cached``), so the
    image key is added beside each metadata key.
    """
    recorder = _KeyRecorder()
    collect_layer(
        revision,
        layer,
        dataset_linked=dataset_linked,
        steps=steps,
        store=recorder,  # type: ignore[arg-type]
        registry=registry,
        tiles_only=tiles_only,
    )
    keys: list[str] = []
    for key in recorder.keys:
        keys.append(key)
        if key.endswith("/meta"):
            keys.append(key.removesuffix("/meta") + "/image")
    connections = tuple(k for k in keys if k.startswith(f"{CONNECTIONS_ANALYSIS}-"))
    source = None
    if connections:
        try:
            source = resolve_from_layer(revision, layer.name, None)
        except AnalysisInputError:
            source = None
    return LayerKeys(keys=tuple(keys), connections=connections, source=source)


def path_segment(name: str) -> str:
    """A layer or model name as one URL-safe path segment; other characters become ``_`` plus a short hash."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".") or "_"
    return safe if safe == name else f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RevisionSite:
    """Where one revision's pages live and how they link out (shared by every layer of the export)."""

    revision: RevisionRecord
    rev_dir: str  # models/<id>/<rev12>
    base_url: str | None
    app_url: str | None
    layers_in_site: frozenset[str]  # layers of this revision whose pages exist after the export

    def layer_dir(self, layer: str) -> str:
        return f"{self.rev_dir}/{path_segment(layer)}"

    def unit_path(self, layer: str, unit: int) -> str:
        return f"{self.layer_dir(layer)}/{unit}.html"

    def canonical(self, path: str) -> str | None:
        return None if self.base_url is None else f"{self.base_url}/{path}"

    def app_link(self, layer: str, unit: int | None = None) -> str | None:
        if self.app_url is None:
            return None
        query = {"model": self.revision.model_id, "layer": layer}
        if unit is not None:
            query["unit"] = str(unit)
        query["rev"] = self.revision.short
        return f"{self.app_url}/microscope?{urlencode(query)}"

    def crumbs(self) -> list[Crumb]:
        return [
            Crumb(label="Loupe Microscope", path="index.html"),
            Crumb(label=self.revision.model_id, path=f"{self.rev_dir}/index.html"),
        ]


def _asset(files: dict[str, bytes], folder: str, data: bytes) -> str:
    path = f"{folder}/img/{hashlib.sha256(data).hexdigest()[:16]}.png"
    files[path] = data
    return path


def tile_pngs(content: LayerContent) -> dict[int, tuple[bytes, str]]:
    """Each unit's tile: (PNG, badge): its channel rendering, else its strongest example marked "example"."""
    images: dict[int, tuple[bytes, str]] = {}
    for unit in range(content.layer.units):
        channel = next((v for v in content.visuals.get(unit, ()) if v.technique.kind is ObjectiveKind.CHANNEL), None)
        if channel is not None:
            images[unit] = (channel.pngs[0], "")
        elif unit in content.tiles:
            images[unit] = (content.tiles[unit], "example")
    return images


Thumbs = Callable[[str, int], tuple[bytes, str] | None]


def layer_files(
    site: RevisionSite,
    content: LayerContent,
    files: dict[str, bytes],
    thumbs: Thumbs,
) -> None:
    """Write (into ``files``) the layer's grid page, every unit page, unit JSON and their images.

    ``thumbs(layer, unit)`` is a unit's tile (PNG, badge) in any layer, or None; connection tiles
    use it. Every image a layer's pages show is stored in the layer's own ``img/`` folder, so its
    pages depend on no other layer's files.
    """
    layer = content.layer
    folder = site.layer_dir(layer.name)
    files[f"{folder}/index.html"] = _layer_page(site, content, files, thumbs).encode()
    for unit in range(layer.units):
        path = site.unit_path(layer.name, unit)
        files[path] = _unit_page(site, content, unit, files, thumbs).encode()
        if unit in content.pages:
            files[path.removesuffix(".html") + ".json"] = _unit_json(site, content, unit)


def _layer_page(
    site: RevisionSite,
    content: LayerContent,
    files: dict[str, bytes],
    thumbs: Thumbs,
) -> str:
    layer = content.layer
    path = f"{site.layer_dir(layer.name)}/index.html"
    model_id = site.revision.model_id
    parts = [
        f"<h1>{esc(model_id)} / {esc(layer.name)}</h1>",
        f'<p class="meta">{esc(layer.kind)}, output {esc(list(layer.output_shape))}, {units_text(layer.units)} · '
        f"revision {esc(site.revision.short)}</p>",
    ]
    links = [f'<a href="{esc(relative(path, f"{site.rev_dir}/index.html"))}">all layers of {esc(model_id)}</a>']
    app = site.app_link(layer.name)
    if app:
        links.append(f'<a href="{esc(app)}">open this layer in the Loupe app</a>')
    parts.append(f'<div class="nav">{" ".join(links)}</div>')
    pending = content.pending
    if content.image_model:
        rendered = layer.units - len(pending)
        parts.append(
            f'<p class="meta">{rendered} of {units_text(layer.units)} rendered when this site was exported.</p>'
        )
    if pending:
        parts.append(
            f'<p class="pending-note">{units_text(len(pending))} {"was" if len(pending) == 1 else "were"} '
            f"not rendered yet: {esc(_ranges(pending))}. "
            "Their tiles show the unit's strongest dataset example, marked <em>example</em> "
            "(or an empty tile marked <em>pending</em> when no examples are computed).</p>"
        )
    elif not content.image_model:
        parts.append('<p class="note">Feature visualization needs an image model; units show dataset statistics.</p>')
    if content.deepdream is not None:
        src = relative(path, _asset(files, site.layer_dir(layer.name), content.deepdream.pngs[0]))
        parts.append(
            f'<h2>DeepDream</h2><figure><img class="vis" src="{esc(src)}" alt="DeepDream of {esc(layer.name)}">'
            f"<figcaption>{esc(_sentence(content.deepdream.technique.summary))}<br>"
            f"{esc(content.deepdream.caption)}</figcaption></figure><h2>Units</h2>"
        )
    tiles = []
    for unit in range(layer.units):
        found = thumbs(layer.name, unit)
        if found:
            image, badge = relative(path, _asset(files, site.layer_dir(layer.name), found[0])), found[1]
        else:
            image, badge = None, "pending" if pending else ""
        tiles.append(tile(href=f"{unit}.html", label=f"unit {unit}", image=image, badge=badge))
    parts.append(f'<div class="grid">{"".join(tiles)}</div>')
    return page(
        path=path,
        title=f"{model_id} / {layer.name}",
        body="\n".join(parts),
        crumbs=[*site.crumbs(), Crumb(label=layer.name, path=None)],
        canonical=site.canonical(path),
    )


def _ranges(units: tuple[int, ...]) -> str:
    """(0, 1, 2, 5) -> "0-2, 5"."""
    spans: list[list[int]] = []
    for unit in units:
        if spans and unit == spans[-1][1] + 1:
            spans[-1][1] = unit
        else:
            spans.append([unit, unit])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)


def _unit_page(
    site: RevisionSite,
    content: LayerContent,
    unit: int,
    files: dict[str, bytes],
    thumbs: Thumbs,
) -> str:
    layer = content.layer
    path = site.unit_path(layer.name, unit)
    folder = site.layer_dir(layer.name)
    model_id = site.revision.model_id
    links = []
    if unit > 0:
        links.append(f'<a href="{unit - 1}.html">← previous unit</a>')
    if unit < layer.units - 1:
        links.append(f'<a href="{unit + 1}.html">next unit →</a>')
    links.append(f'<a href="index.html">all units of {esc(layer.name)}</a>')
    app = site.app_link(layer.name, unit)
    if app:
        links.append(f'<a href="{esc(app)}">open in the Loupe app (interactive)</a>')
    parts = [
        f"<h1>{esc(model_id)} / {esc(layer.name)} / unit {unit}</h1>",
        f'<p class="meta">{esc(layer.kind)}, output {esc(list(layer.output_shape))} · revision '
        f"{esc(site.revision.short)} (this page never changes; the model's later revisions have their own)</p>",
        f'<div class="nav">{" ".join(links)}</div>',
    ]
    halves = []
    if content.image_model:
        halves.append(
            "<section><h2>Feature visualization</h2>" + _visuals(site, content, unit, files, path) + "</section>"
        )
    halves.append("<section><h2>Dataset examples</h2>" + _examples(content, unit, files, folder, path) + "</section>")
    parts.append(f'<div class="unit">{"".join(halves)}</div>')
    parts.append(_connections(site, content, unit, path=path, files=files, thumbs=thumbs))
    return page(
        path=path,
        title=f"{model_id} / {layer.name} / unit {unit}",
        body="\n".join(parts),
        crumbs=[
            *site.crumbs(),
            Crumb(label=layer.name, path=f"{folder}/index.html"),
            Crumb(label=f"unit {unit}", path=None),
        ],
        canonical=site.canonical(path),
    )


def _visuals(site: RevisionSite, content: LayerContent, unit: int, files: dict[str, bytes], path: str) -> str:
    visuals = content.visuals.get(unit, ())
    if not visuals:
        return '<p class="pending-note">Not rendered yet when this site was exported.</p>'
    folder = site.layer_dir(content.layer.name)
    parts = []
    for number, visual in enumerate(visuals):
        sources = [relative(path, _asset(files, folder, png)) for png in visual.pngs]
        alt = f"{visual.technique.title} of unit {unit}"
        # The page's first image is fetched first; the others wait until they are near the screen.
        load = 'fetchpriority="high"' if number == 0 else 'loading="lazy" decoding="async"'
        if len(sources) > 1:
            images = '<div class="row vis-row">'
            images += "".join(f'<img {load} src="{esc(s)}" alt="{esc(alt)}">' for s in sources) + "</div>"
        else:
            images = f'<img class="vis" {load} src="{esc(sources[0])}" alt="{esc(alt)}">'
        notes = "".join(f'<p class="note">{esc(n[:1].upper() + n[1:])}.</p>' for n in visual.notes)
        parts.append(
            f"<figure><h3>{esc(visual.technique.title)}</h3>{images}<figcaption>{esc(_sentence(visual.technique.summary))}"
            f"<br>{esc(visual.caption)}</figcaption>{notes}</figure>"
        )
    return "".join(parts)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def statistic_words(layer: LayerInfo) -> str:
    """The app's words for a unit's value per example: a channel mean on [h, w, c] layers, else its activation."""
    return "channel mean" if len(layer.output_shape) == 3 else "activation"


def ties_sentence(ties: int, value: float) -> str:
    """The app's sentence for many examples tied at the minimum (none of them is singled out)."""
    return (
        f"<p><strong>{ties:,} examples at {value:.3g}</strong> (the unit's minimum, typical after a ReLU): "
        "any of them would do, so none is singled out.</p>"
    )


def _examples(content: LayerContent, unit: int, files: dict[str, bytes], folder: str, path: str) -> str:
    entry = content.pages.get(unit)
    if entry is None:
        if not content.dataset_linked:
            return '<p class="note">No data set is linked to this model, so there are no dataset examples.</p>'
        return (
            '<p class="pending-note">This layer\'s dataset examples were not computed when the site was exported.</p>'
        )
    words = statistic_words(content.layer)
    parts = [
        f'<p class="meta">{entry.n_examples:,} examples of {esc(entry.dataset_name)}; '
        f"ranked by the unit's {words}.</p>"
    ]

    def row(title: str, items) -> str:
        rows = content.features
        if items and items[0].png is None and rows is not None:
            headers = ["feature", "typical (median)", *(f"#{t.index} ({t.value:.3g})" for t in items)]
            values = [
                (name, f"{rows.medians[i]:.3g}", *(f"{rows.x[t.index, i]:.3g}" for t in items))
                for i, name in enumerate(rows.names)
            ]
            caption = "Column headers: the example's row in the data set and the unit's activation on it."
            numeric = (False, *([True] * (len(items) + 1)))
            return f"<h3>{title}</h3>" + table(headers, values, numeric=numeric) + f'<p class="note">{caption}</p>'
        if not items or items[0].png is None:
            rows = [(t.index, f"{t.value:.3g}") for t in items]
            return f"<h3>{title}</h3>" + table(["example", words], rows, numeric=(True, True))
        shown = [(relative(path, _asset(files, folder, t.png)), f"#{t.index}: {t.value:.3g}") for t in items]
        return f"<h3>{title}</h3>" + thumbnails(shown)

    parts.append(row("Strongest", entry.top))
    ties = int(entry.unit_data.get("bottom_mean_ties", 0))
    if entry.bottom and ties > len(entry.bottom):
        parts.append("<h3>Weakest</h3>" + ties_sentence(ties, entry.bottom[0].value))
    else:
        parts.append(row("Weakest", entry.bottom))
    if entry.top and entry.top[0].png is not None:
        parts.append(
            '<p class="note">Red tint: where the unit fired in each strongest example (scaled per example).</p>'
        )
    if entry.histogram_png is not None:
        src = relative(path, _asset(files, folder, entry.histogram_png))
        alt = f"histogram of unit {unit} over the data set"
        parts.append(f'<img class="histogram" loading="lazy" src="{esc(src)}" alt="{alt}">')
    stats = [
        ("examples", f"{entry.n_examples:,}"),
        (f"strongest {words}", f"{entry.top[0].value:.4g}" if entry.top else "-"),
        (f"weakest {words}", f"{entry.bottom[0].value:.4g}" if entry.bottom else "-"),
        ("examples tied at the weakest", f"{max(ties, 1):,}" if entry.bottom else "-"),
        ("data set SHA-256", entry.dataset_sha256[:16] + "…"),
    ]
    parts.append("<h3>Statistics</h3>" + table(["statistic", "value"], stats, numeric=(False, True)))
    parts.append(f'<p class="noprint"><a href="{unit}.json" download>Download unit data (JSON)</a></p>')
    return "".join(parts)


def _unit_json(site: RevisionSite, content: LayerContent, unit: int) -> bytes:
    """The app's "Download unit data (JSON)" payload, as a file beside the page."""
    entry = content.pages[unit]
    payload = {
        "model": site.revision.model_id,
        "revision": site.revision.revision,
        "layer": content.layer.name,
        "dataset": {"file": entry.dataset_name, "sha256": entry.dataset_sha256},
        **entry.unit_data,
    }
    return (json.dumps(payload, indent=2, allow_nan=False) + "\n").encode()


def _connections(
    site: RevisionSite,
    content: LayerContent,
    unit: int,
    *,
    path: str,
    files: dict[str, bytes],
    thumbs: Thumbs,
) -> str:
    if not content.connections:
        return ""
    parts = ["<section><h2>Connections</h2>"]
    for result, source in content.connections:
        excitatory, inhibitory = result.unit(unit).top(CONNECTIONS_SHOWN)
        parts.append(
            f'<p class="meta">From {esc(source)}, by {esc(METHOD_WORDS[result.method])} '
            f"({result.source_units} source units; the {CONNECTIONS_SHOWN} strongest of each sign).</p>"
        )
        for title, connections in (("Excitatory", excitatory), ("Inhibitory", inhibitory)):
            tiles = []
            for connection in connections:
                label = f"{source}:{connection.unit} #{connection.rank} {connection.value:+.3g}"
                found = thumbs(source, connection.unit)
                if source in site.layers_in_site:
                    href = relative(path, site.unit_path(source, connection.unit))
                    folder = site.layer_dir(content.layer.name)
                    image = relative(path, _asset(files, folder, found[0])) if found else None
                    tiles.append(tile(href=href, label=label, image=image, badge=found[1] if found else ""))
                else:  # the source layer is not in this site: no page to link to
                    tiles.append(
                        f'<div class="tile"><div class="frame"></div><div class="label">{esc(label)}</div></div>'
                    )
            body = f'<div class="connections">{"".join(tiles)}</div>' if tiles else '<p class="note">none</p>'
            parts.append(f"<h3>{title}</h3>{body}")
    parts.append("</section>")
    return "".join(parts)
