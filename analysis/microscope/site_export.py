"""Publish a Microscope as a static site: ``export_site(SiteExportSpec) -> SiteExportResult``.

The site is plain HTML, one stylesheet and PNGs, with relative links, so any static host serves it
(``python -m http.server`` for a look on your machine)::

    index.html                                   every model in the site
    site.css                                     the one stylesheet (screen and print)
    sitemap.xml                                  only with a base URL (a sitemap needs absolute URLs)
    manifest.json                                every other file with its SHA-256 and size
    models/<id>/<rev12>/index.html               a revision's layers
    models/<id>/<rev12>/<layer>/index.html       the layer's grid of units
    models/<id>/<rev12>/<layer>/<unit>.html      a unit (and <unit>.json, its data)
    models/<id>/<rev12>/<layer>/img/<hash>.png   images, named by content
    models/<id>/latest/...                       redirect pages to the current revision's pages

Paths carry the revision, so a cited page never changes under its reader. ``latest`` is a tree of
small redirect pages (``<meta http-equiv=refresh>`` plus a link), not a symlink (many static hosts
drop or refuse symlinks) and not a copy (which would double the site); it follows the model's
current revision whenever that revision is exported.

Two steps: :func:`plan_site` reads the registry and the result store and returns every file's
content (nothing written); :func:`write_site` writes what differs from the site on disk, each file
through a temporary file and a rename, removes what this export used to own and no longer does,
and rewrites ``manifest.json`` last. Re-exporting with nothing changed writes nothing. An export
owns the folders of the layers it exports, its revision's index, the model's ``latest`` tree
(when it exports the current revision) and the root files; other models and layers already in
the site stay as they are, and the indexes list them (from the manifest).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.atomic_files import new_file_mode, write_atomically
from analysis.datasets import DatasetInfo, DatasetRole, load_npz
from analysis.errors import AnalysisInputError
from analysis.microscope.featurevis.spec import DEFAULT_STEPS, MAX_STEPS
from analysis.microscope.site_layers import (
    FeatureRows,
    RevisionSite,
    collect_layer,
    layer_files,
    layer_keys,
    path_segment,
    tile_pngs,
)
from analysis.microscope.site_pages import CSS, CSS_PATH, Crumb, esc, page, redirect_page, relative, sitemap
from analysis.models.registry import ModelRegistry
from analysis.models.revisions import RevisionRecord
from analysis.models.summary import LayerInfo, units_text
from cache import ResultStore
from cache.keys import canonical_json

FORMAT = "loupe-static-site"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ROOT_FILES = ("index.html", CSS_PATH, "sitemap.xml")
LISTED = 100  # paths listed in the JSON summary (the counts are always complete)
_URL = re.compile(r"https?://[^\s\"'<>]+")


def _url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip().rstrip("/")
    if not _URL.fullmatch(text):
        raise AnalysisInputError(f"{name} {value!r} must be an http:// or https:// URL, e.g. https://example.org/loupe")
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteExportSpec:
    """What to export: one model's ``layers`` (None: all with units) at ``revision`` (None: current) into ``out``.

    ``base_url``: where the site will be served (absolute canonical links and ``sitemap.xml``).
    ``app_url``: the Loupe app's address; pages then link to it for interactive work.
    ``steps``: the renderings to show (those made with this many steps and otherwise the pages' defaults).
    ``force``: write into a folder that holds something other than a Loupe site.
    ``require_complete``: refuse when a unit is not rendered or has no dataset examples yet
    (default: export what exists, with placeholders, and list the missing units).
    """

    model_id: str
    out: Path
    layers: tuple[str, ...] | None = None
    revision: str | None = None
    base_url: str | None = None
    app_url: str | None = None
    steps: int = DEFAULT_STEPS
    force: bool = False
    require_complete: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.model_id, str) or not self.model_id.strip():
            raise AnalysisInputError(f"model id {self.model_id!r} must be a non-empty string")
        set_(self, "out", Path(self.out).expanduser())
        if self.layers is not None:
            layers = tuple(str(name).strip() for name in self.layers)
            if not layers or not all(layers):
                raise AnalysisInputError(f"layers {list(self.layers)!r} must name at least one layer, without blanks")
            duplicates = sorted({name for name in layers if layers.count(name) > 1})
            if duplicates:
                raise AnalysisInputError(f"layer {duplicates[0]!r} is listed more than once")
            set_(self, "layers", layers)
        set_(self, "base_url", _url("base URL", self.base_url))
        set_(self, "app_url", _url("app URL", self.app_url))
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise AnalysisInputError(f"steps {self.steps!r} must be an integer from 1 to {MAX_STEPS}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SitePlan:
    """Every file an export owns, with its content; nothing written yet (see :func:`write_site`)."""

    spec: SiteExportSpec
    revision: RevisionRecord
    layers: tuple[LayerInfo, ...]
    files: Mapping[str, bytes] = field(repr=False)
    scopes: tuple[str, ...]  # folders ("…/") and files this export owns
    previous: Mapping[str, str] = field(repr=False)  # the site's manifest before: path -> sha256
    manifest: Mapping[str, Any] = field(repr=False)  # without the ``stat`` of the ``restat`` folders
    pending: Mapping[str, tuple[int, ...]]
    examples_missing: Mapping[str, tuple[int, ...]]
    latest: bool  # whether this export (re)points the model's ``latest`` alias
    trusted: frozenset[str] = frozenset()  # folders whose files on disk match the manifest (size, mtime)
    kept_layers: tuple[str, ...] = ()  # layers with unchanged inputs and files: not read, rendered or written
    restat: tuple[str, ...] = ()  # folders written by this export: their ``stat`` is taken after writing
    kept_files: int = 0  # files in the kept folders (unchanged, not compared)

    def owns(self, path: str) -> bool:
        return any(path == s or (s.endswith("/") and path.startswith(s)) for s in self.scopes)


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteExportResult:
    """What an export wrote: paths written, counts unchanged and removed, units still missing."""

    model_id: str
    revision: str
    out: str
    layers: tuple[str, ...]
    units: int
    files: int  # files in the site after the export (manifest.json included)
    bytes: int
    written: tuple[str, ...]
    unchanged: int  # files of the export not written (kept folders included)
    removed: tuple[str, ...]
    manifest_written: bool
    pending: Mapping[str, tuple[int, ...]]
    examples_missing: Mapping[str, tuple[int, ...]]
    latest: bool
    seconds: float
    kept_layers: tuple[str, ...] = ()  # layers whose inputs and files were unchanged: not even read

    @property
    def index(self) -> str:
        return f"models/{path_segment(self.model_id)}/{self.revision[:12]}/index.html"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "revision": self.revision,
            "out": self.out,
            "index": self.index,
            "layers": list(self.layers),
            "units": self.units,
            "files": self.files,
            "bytes": self.bytes,
            "written": len(self.written),
            "unchanged": self.unchanged,
            "removed": len(self.removed),
            "written_files": list(self.written[:LISTED]),
            "removed_files": list(self.removed[:LISTED]),
            "manifest_written": self.manifest_written,
            "latest": self.latest,
            "kept_layers": list(self.kept_layers),
            "pending": {layer: list(units) for layer, units in self.pending.items() if units},
            "examples_missing": {layer: list(units) for layer, units in self.examples_missing.items() if units},
            "seconds": round(self.seconds, 3),
        }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(out: Path, *, force: bool = False) -> dict[str, Any] | None:
    """The manifest of the Loupe site at ``out``; None for a missing or empty folder.

    A folder holding anything else is refused (AnalysisInputError) unless ``force``.
    """
    if out.exists() and not out.is_dir():
        raise AnalysisInputError(f"output {str(out)!r} is a file; give a folder for the site")
    if not out.exists() or not any(out.iterdir()):
        return None
    manifest = None
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if isinstance(manifest, dict) and manifest.get("format") == FORMAT and isinstance(manifest.get("files"), dict):
        return manifest
    if force:
        return None
    raise AnalysisInputError(
        f"output folder {str(out)!r} holds files but no Loupe site (no {MANIFEST} of a Loupe export); "
        "choose an empty or new folder, or pass --force to write the site into it (nothing there is deleted)"
    )


class _ReadOnce:
    """A registry whose answers are kept for one export: planning asks the same questions for every unit."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry
        self._answers: dict[tuple[str, ...], Any] = {}

    def _ask(self, key: tuple[str, ...], question: Any) -> Any:
        if key not in self._answers:
            self._answers[key] = question()
        return self._answers[key]

    def get(self, model_id: str) -> Any:
        return self._ask(("get", model_id), lambda: self._registry.get(model_id))

    def resolve(self, model_id: str, revision_prefix: str | None = None) -> RevisionRecord:
        key = ("resolve", model_id, revision_prefix or "")
        return self._ask(key, lambda: self._registry.resolve(model_id, revision_prefix))

    def ids(self) -> list[str]:
        return self._ask(("ids",), self._registry.ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._registry, name)


def plan_site(
    spec: SiteExportSpec, *, store: ResultStore | None = None, registry: ModelRegistry | None = None
) -> SitePlan:
    """Every file of the export that may have changed, read from the registry and the result store (no
    TensorFlow; the data set only of a tabular model, for its feature rows).

    A layer whose inputs digest (:func:`_layer_inputs`) and files on disk (:func:`_stat_digest`) match
    what the manifest recorded is not read or rendered at all: its files stay as listed.
    """
    registry = _ReadOnce(registry or ModelRegistry())  # type: ignore[assignment]
    if store is None:
        from analysis.paths import open_result_store

        store = open_result_store()
    model = registry.get(spec.model_id)  # names the registered models
    revision = registry.resolve(spec.model_id, spec.revision)  # names the revisions
    summary = revision.summary
    if not summary.layers:
        raise AnalysisInputError(f"model {spec.model_id!r} exposes no layers with units; there is nothing to publish")
    layers = tuple(summary.layer(name) for name in spec.layers) if spec.layers else summary.layers
    old = read_manifest(spec.out, force=spec.force) or {}
    base_url = spec.base_url
    if old.get("base_url") and base_url and old["base_url"] != base_url:
        raise AnalysisInputError(
            f"the site at {str(spec.out)!r} uses base URL {old['base_url']!r}, not {base_url!r}; export every "
            "model of one site with the same --base-url (or into a new folder)"
        )
    base_url = base_url or old.get("base_url")
    data = model.dataset(DatasetRole.DATA)
    dataset_linked = data is not None
    model_dir = f"models/{path_segment(spec.model_id)}"
    rev_dir = f"{model_dir}/{revision.short}"
    old_models = (old.get("models") or {}).get(spec.model_id, {}).get("revisions", {}).get(revision.short, {})
    in_site = frozenset(old_models.get("layers") or ()) | {layer.name for layer in layers}
    site = RevisionSite(
        revision=revision, rev_dir=rev_dir, base_url=base_url, app_url=spec.app_url, layers_in_site=in_site
    )
    previous = {path: str(entry.get("sha256")) for path, entry in old.get("files", {}).items() if _safe(path)}
    old_state = old.get("incremental") if old.get("version") == FORMAT_VERSION else None
    old_state = old_state if isinstance(old_state, dict) else {}
    by_group: dict[str, list[str]] = {}
    for path in previous:
        group = _group(path, rev_dir, model_dir)
        if group is not None:
            by_group.setdefault(group, []).append(path)
    verified = {
        group
        for group, paths in by_group.items()
        if isinstance(old_state.get(group), dict) and old_state[group].get("stat") == _stat_digest(spec.out, paths)
    }
    options = {
        "format": FORMAT_VERSION,
        "templates": template_version(),
        "model": spec.model_id,
        "revision": revision.revision,
        "input_shape": list(summary.input_shape),
        "dataset": None if data is None else [data.sha256, list(data.feature_names)],
        "steps": spec.steps,
        "base_url": base_url,
        "app_url": spec.app_url,
    }
    state: dict[str, dict[str, Any]] = {}
    collected: list[LayerInfo] = []
    counts: dict[str, tuple[int, int]] = {}
    pending: dict[str, tuple[int, ...]] = {}
    missing: dict[str, tuple[int, ...]] = {}
    fingerprint = f"{store.fingerprint()}:{_digest(options)}"  # taken before any key is read
    for layer in layers:
        group = f"{site.layer_dir(layer.name)}/"
        before = old_state.get(group) if isinstance(old_state.get(group), dict) else {}
        record = _layer_inputs(
            site,
            layer,
            options,
            recorded=before,
            fingerprint=fingerprint,
            dataset_linked=dataset_linked,
            store=store,
            registry=registry,
        )
        recorded = before if group in verified else None
        if recorded is not None and recorded.get("inputs") == record["inputs"]:  # unchanged: kept as listed
            state[group] = recorded | record
            pending[layer.name] = tuple(recorded.get("pending") or ())
            missing[layer.name] = tuple(recorded.get("examples_missing") or ())
            counts[layer.name] = (layer.units, len(pending[layer.name]))
        else:
            state[group] = record
            collected.append(layer)
    features = _feature_rows(data, summary.input_shape) if collected else None
    contents = [
        collect_layer(
            revision,
            layer,
            dataset_linked=dataset_linked,
            steps=spec.steps,
            store=store,
            registry=registry,
            features=features,
        )
        for layer in collected
    ]
    for content in contents:
        name = content.layer.name
        pending[name], missing[name] = content.pending, content.examples_missing
        counts[name] = (content.layer.units, len(content.pending))
        record = state[f"{site.layer_dir(name)}/"]
        record["pending"], record["examples_missing"] = list(content.pending), list(content.examples_missing)
    pending = {layer.name: pending[layer.name] for layer in layers}
    missing = {layer.name: missing[layer.name] for layer in layers}
    if spec.require_complete and (any(pending.values()) or any(missing.values())):
        problems = [f"{name}: {units_text(len(units))} not rendered" for name, units in pending.items() if units]
        problems += [
            f"{name}: {units_text(len(units))} without dataset examples" for name, units in missing.items() if units
        ]
        raise AnalysisInputError(
            f"model {spec.model_id!r} revision {revision.short} is not complete ({'; '.join(problems)}); render them "
            "first (the background worker, or 'python -m analysis render'), or export without --require-complete "
            "to publish placeholders"
        )
    models = _models_section(old, model.current.revision, revision, [(layer, *counts[layer.name]) for layer in layers])
    latest = models[spec.model_id]["latest"] == revision.short
    files: dict[str, bytes] = {}
    sources = {source for c in contents for _, source in c.connections} - {c.layer.name for c in contents}
    tile_sources = contents + [
        collect_layer(
            revision,
            summary.layer(name),
            dataset_linked=dataset_linked,
            steps=spec.steps,
            store=store,
            registry=registry,
            tiles_only=True,
        )
        for name in sorted(sources)
    ]
    thumbs = {(c.layer.name, u): image for c in tile_sources for u, image in tile_pngs(c).items()}
    for content in contents:
        layer_files(site, content, files, lambda layer, unit: thumbs.get((layer, unit)))
    files[f"{rev_dir}/index.html"] = _revision_page(site, models[spec.model_id]["revisions"][revision.short]).encode()
    scopes = [f"{site.layer_dir(layer.name)}/" for layer in collected] + [f"{rev_dir}/index.html", *ROOT_FILES]
    kept_groups = {f"{site.layer_dir(layer.name)}/" for layer in layers} - set(scopes)
    if latest:
        latest_dir = f"{model_dir}/latest/"
        pages = sorted({p for p in (*previous, *files) if p.startswith(rev_dir + "/") and p.endswith(".html")})
        alias_inputs = _digest({"options": options, "pages": pages})
        recorded = old_state.get(latest_dir) if latest_dir in verified else None
        if recorded is not None and recorded.get("inputs") == alias_inputs:
            state[latest_dir] = recorded
            kept_groups.add(latest_dir)
        else:
            state[latest_dir] = {"inputs": alias_inputs}
            scopes.append(latest_dir)
            for target in pages:
                alias = latest_dir + target.removeprefix(rev_dir + "/")
                title = f"{spec.model_id} (latest) / " + target.removeprefix(rev_dir + "/").removesuffix(".html")
                files[alias] = redirect_page(
                    path=alias, target=target, title=title, canonical=site.canonical(target)
                ).encode()
    plan_scopes = tuple(scopes)
    owned = {p for p in previous if p in plan_scopes} | {
        p for p in previous if (group := _group(p, rev_dir, model_dir)) is not None and group in plan_scopes
    }
    kept = {p: s for p, s in previous.items() if p not in owned}
    html_pages = sorted(p for p in (*kept, *files) if p.endswith(".html") and "/latest/" not in p)
    files["index.html"] = _root_page(models, base_url).encode()
    files[CSS_PATH] = CSS.encode()
    if base_url:
        files["sitemap.xml"] = sitemap([f"{base_url}/{p}" for p in sorted({"index.html", *html_pages})]).encode()
    listing = {p: {"sha256": s, "bytes": old["files"][p].get("bytes")} for p, s in kept.items()}
    listing |= {p: {"sha256": _sha256(data), "bytes": len(data)} for p, data in files.items()}
    incremental = {g: r for g, r in old_state.items() if isinstance(r, dict) and g not in state} | state
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "base_url": base_url,
        "models": models,
        "files": dict(sorted(listing.items())),
        "incremental": dict(sorted(incremental.items())),
    }
    return SitePlan(
        spec=spec,
        revision=revision,
        layers=layers,
        files=files,
        scopes=plan_scopes,
        previous=previous,
        manifest=manifest,
        pending=pending,
        examples_missing=missing,
        latest=latest,
        trusted=frozenset(verified),
        kept_layers=tuple(layer.name for layer in layers if f"{site.layer_dir(layer.name)}/" in kept_groups),
        restat=tuple(g for g in plan_scopes if g in state),
        kept_files=sum(len(by_group.get(group, ())) for group in kept_groups),
    )


def _group(path: str, rev_dir: str, model_dir: str) -> str | None:
    """The folder of ``path`` whose files are checked together: a layer of ``rev_dir``, or the ``latest`` tree."""
    if path.startswith(f"{model_dir}/latest/"):
        return f"{model_dir}/latest/"
    if path.startswith(f"{rev_dir}/"):
        cut = path.find("/", len(rev_dir) + 1)
        return path[: cut + 1] if cut > 0 else None
    return None


def _stat_digest(out: Path, paths: list[str]) -> str:
    """A digest of the files' sizes and modification times (one ``stat`` each; a missing file counts too)."""
    digest = hashlib.sha256()
    root = str(out)
    for path in sorted(paths):
        try:
            found = os.stat(os.path.join(root, path))
            digest.update(f"{path}\0{found.st_size}\0{found.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{path}\0missing\n".encode())
    return digest.hexdigest()


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@functools.cache
def template_version() -> str:
    """A digest of the code that shapes the pages and names the cache keys they read: the source of the
    ``analysis.microscope`` package and of ``cache`` (a new Loupe version plans every page again)."""
    import analysis.microscope
    import cache

    digest = hashlib.sha256()
    for package in (analysis.microscope, cache):
        root = Path(package.__file__ or "").parent
        for source in sorted(root.rglob("*.py")):
            digest.update(source.relative_to(root).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def _layer_inputs(
    site: RevisionSite,
    layer: LayerInfo,
    options: Mapping[str, Any],
    *,
    recorded: Mapping[str, Any],
    fingerprint: str,
    dataset_linked: bool,
    store: ResultStore,
    registry: ModelRegistry,
) -> dict[str, Any]:
    """A digest of everything a layer's files are made from, read from the store's index, not its values.

    The export's options and the templates' code, the layer's description, the keys its pages read
    with each entry's version (:meth:`ResultStore.versions`), and, when its connections are cached,
    the source layer's tile keys and whether that layer's pages are in the site (the links).
    Returns the layer's ``incremental`` record without its ``stat``: ``inputs``, and ``entries`` (the
    keys' digest) with the store's ``fingerprint`` it was taken at; while the store's fingerprint and
    the code are unchanged, the recorded ``entries`` stand without computing any key.
    """
    revision = site.revision
    if recorded.get("store") == fingerprint and isinstance(recorded.get("entries"), str):
        entries, source = recorded["entries"], recorded.get("source")
    else:
        found = layer_keys(revision, layer, dataset_linked=dataset_linked, steps=options["steps"], registry=registry)
        keys = list(found.keys)
        versions = store.versions(keys)
        source = found.source if any(key in versions for key in found.connections) else None
        if source is not None:
            tiles = layer_keys(
                revision,
                revision.summary.layer(source),
                dataset_linked=dataset_linked,
                steps=options["steps"],
                registry=registry,
                tiles_only=True,
            )
            keys += tiles.keys
            versions |= store.versions(tiles.keys)
        digest = hashlib.sha256()
        for key in keys:
            digest.update(f"{key}\0{versions.get(key, '-')}\n".encode())
        entries = digest.hexdigest()
    inputs = _digest(
        {
            "options": options,
            "layer": [layer.name, layer.kind, list(layer.output_shape), layer.units],
            "source": None if source is None else [source, source in site.layers_in_site],
            "entries": entries,
        }
    )
    return {"inputs": inputs, "store": fingerprint, "entries": entries, "source": source}


def _feature_rows(dataset: DatasetInfo | None, input_shape: tuple[int | None, ...]) -> FeatureRows | None:
    """A tabular model's data set (``x`` of ``[examples, features]``) for its unit pages' feature rows."""
    if dataset is None or len(input_shape) != 1:
        return None
    x = load_npz(Path(dataset.path))["x"]
    if x.ndim != 2:
        return None
    names = tuple(dataset.feature_names) or tuple(f"feature {i}" for i in range(x.shape[1]))
    return FeatureRows(names=names, x=x, medians=np.median(x, axis=0))


def _safe(path: str) -> bool:
    """A manifest path that stays inside the site (a manifest is data from disk, not trusted blindly)."""
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and ".." not in parts and "" not in parts and path != MANIFEST


def _models_section(
    old: Mapping[str, Any], current: str, revision: RevisionRecord, counts: list[tuple[LayerInfo, int, int]]
) -> dict[str, Any]:
    """The manifest's ``models``: per model, its ``latest`` revision and each revision's exported layers."""
    models = json.loads(json.dumps(old.get("models") or {}))  # a deep copy
    entry = models.setdefault(revision.model_id, {"latest": None, "revisions": {}})
    revisions = entry.setdefault("revisions", {})
    record = revisions.setdefault(revision.short, {"revision": revision.revision, "layers": {}})
    for layer, units, pending in counts:  # (layer, units, units pending)
        record["layers"][layer.name] = {"units": units, "pending": pending}
    order = [layer.name for layer in revision.summary.layers]
    record["layers"] = dict(
        sorted(record["layers"].items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    )
    if revision.revision == current:
        entry["latest"] = revision.short
    return dict(sorted(models.items()))


def _revision_page(site: RevisionSite, record: Mapping[str, Any]) -> str:
    revision = site.revision
    summary = revision.summary
    path = f"{site.rev_dir}/index.html"
    rows = []
    for info in summary.layers:
        exported = record["layers"].get(info.name)
        if exported is None:
            continue
        href = relative(path, f"{site.layer_dir(info.name)}/index.html")
        status = f", {exported['pending']} not rendered yet" if exported.get("pending") else ""
        rows.append(
            f'<li><a href="{esc(href)}">{esc(info.name)}</a> — {esc(info.kind)}, {units_text(info.units)}, '
            f"output {esc(list(info.output_shape))}{esc(status)}</li>"
        )
    body = (
        f"<h1>{esc(revision.model_id)}</h1>"
        f'<p class="meta">revision {esc(revision.revision)} · registered {esc(revision.registered_at)} · '
        f"{esc(summary.format.value)} · input {esc(list(summary.input_shape))} · "
        f"{summary.parameter_count:,} parameters</p>"
        f'<h2>Layers</h2><ul class="layers">{"".join(rows)}</ul>'
    )
    return page(
        path=path,
        title=f"{revision.model_id} · revision {revision.short}",
        body=body,
        crumbs=[Crumb(label="Loupe Microscope", path="index.html"), Crumb(label=revision.model_id, path=None)],
        canonical=site.canonical(path),
    )


def _root_page(models: Mapping[str, Any], base_url: str | None) -> str:
    items = []
    for model_id, entry in models.items():
        model_dir = f"models/{path_segment(model_id)}"
        revisions = ", ".join(
            f'<a href="{esc(f"{model_dir}/{short}/index.html")}">{esc(short)}</a> ({len(record["layers"])} layers)'
            for short, record in entry["revisions"].items()
        )
        latest = entry.get("latest")
        head = (
            f'<a href="{esc(f"{model_dir}/latest/index.html")}">{esc(model_id)}</a> (latest: {esc(latest)})'
            if latest
            else esc(model_id)
        )
        items.append(f"<li>{head}<br><span class='meta'>revisions: {revisions}</span></li>")
    body = (
        "<h1>Loupe Microscope</h1>"
        "<p>Every unit of every published layer, with its feature visualizations and dataset examples. "
        "Links to a revision never change; <em>latest</em> follows each model's newest published revision.</p>"
        f'<h2>Models</h2><ul class="layers">{"".join(items)}</ul>'
    )
    return page(
        path="index.html",
        title="Loupe Microscope",
        body=body,
        crumbs=[Crumb(label="Loupe Microscope", path=None)],
        canonical=None if base_url is None else f"{base_url}/index.html",
    )


def _same(target: Path, data: bytes, recorded: str | None) -> bool:
    """Whether ``target`` already holds ``data``: by the manifest's hash and the size, else by reading it.

    ``recorded`` is given only for files in a folder whose sizes and modification times still match
    the manifest's; a file edited by hand elsewhere is read, so it is restored even at the same size.
    """
    if not target.is_file() or target.stat().st_size != len(data):
        return False
    digest = _sha256(data)
    return recorded == digest or _sha256(target.read_bytes()) == digest


def write_site(plan: SitePlan, *, started: float | None = None) -> SiteExportResult:
    """Write what differs, remove what the export no longer owns, then the manifest; OS errors name the path."""
    started = time.perf_counter() if started is None else started
    out = plan.spec.out
    written: list[str] = []
    removed: list[str] = []
    unchanged = plan.kept_files
    rev_dir = f"models/{path_segment(plan.spec.model_id)}/{plan.revision.short}"
    model_dir = rev_dir.rsplit("/", 1)[0]
    mode = new_file_mode()  # a site is published: readable by a web server running as another user
    try:
        out.mkdir(parents=True, exist_ok=True)
        for path, data in sorted(plan.files.items()):
            target = out / path
            trusted = _group(path, rev_dir, model_dir) in plan.trusted
            if _same(target, data, plan.previous.get(path) if trusted else None):
                unchanged += 1
                continue
            write_atomically(target, data, mode=mode)
            written.append(path)
        for path in sorted(plan.previous):
            if path not in plan.files and plan.owns(path):
                target = out / path
                target.unlink(missing_ok=True)
                removed.append(path)
                _prune(target.parent, out)
        manifest = dict(plan.manifest)
        listing = manifest["files"]
        incremental = {group: dict(record) for group, record in manifest["incremental"].items()}
        restat: dict[str, list[str]] = {group: [] for group in plan.restat}
        for path in listing:
            group = _group(path, rev_dir, model_dir)
            if group in restat:
                restat[group].append(path)
        for group, paths in restat.items():
            incremental[group]["stat"] = _stat_digest(out, paths)
        manifest["incremental"] = incremental
        data = _manifest_bytes(manifest)
        manifest_path = out / MANIFEST
        manifest_written = not (manifest_path.is_file() and manifest_path.read_bytes() == data)
        if manifest_written:
            write_atomically(manifest_path, data, mode=mode)
    except OSError as error:
        raise AnalysisInputError(f"cannot write the site at {str(out)!r}: {error.strerror or error}") from error
    return SiteExportResult(
        model_id=plan.spec.model_id,
        revision=plan.revision.revision,
        out=str(out),
        layers=tuple(layer.name for layer in plan.layers),
        units=sum(layer.units for layer in plan.layers),
        files=len(listing) + 1,
        bytes=sum(int(entry.get("bytes") or 0) for entry in listing.values()) + len(data),
        written=tuple(written),
        unchanged=unchanged,
        removed=tuple(removed),
        manifest_written=manifest_written,
        pending=plan.pending,
        examples_missing=plan.examples_missing,
        latest=plan.latest,
        kept_layers=plan.kept_layers,
        seconds=time.perf_counter() - started,
    )


def _manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The manifest as JSON with one file (and one folder record) per line: readable, diffable, and made
    by the C encoder entry by entry (an indented dump of a 10,000-unit site takes seconds)."""
    sections = ("files", "incremental")
    lines = ["{"]
    lines += [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in manifest.items() if k not in sections]
    for number, section in enumerate(sections):
        entries = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in manifest[section].items())
        lines.append(f" {json.dumps(section)}: {{\n{entries}\n }}" + ("," if number < len(sections) - 1 else ""))
    lines.append("}")
    return ("\n".join(lines) + "\n").encode()


def _prune(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` while they are empty."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def export_site(
    spec: SiteExportSpec, *, store: ResultStore | None = None, registry: ModelRegistry | None = None
) -> SiteExportResult:
    """Plan the site from the cache, then write only what changed (see the module docstring)."""
    started = time.perf_counter()
    return write_site(plan_site(spec, store=store, registry=registry), started=started)


def published_unit_path(site_dir: Path, model_id: str, revision: str, layer: str, unit: int) -> str | None:
    """The site path of a unit's published page when the Loupe site at ``site_dir`` has it, else None.

    Cheap (two ``stat`` calls): the app's unit page uses it to offer the published copy.
    """
    path = f"models/{path_segment(model_id)}/{revision[:12]}/{path_segment(layer)}/{unit}.html"
    return path if (site_dir / MANIFEST).is_file() and (site_dir / path).is_file() else None


__all__ = [
    "SiteExportResult",
    "SiteExportSpec",
    "SitePlan",
    "export_site",
    "plan_site",
    "published_unit_path",
    "read_manifest",
    "write_site",
]
