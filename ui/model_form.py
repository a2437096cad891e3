"""The Models page's "Add a model" form, for writers: uploads or allowed server paths, never trusted code.

A registration whose id is taken waits for a confirmation that names what it replaces (the
current revision, its file and when it was registered); the registry checks, in the same
transaction, that this is still the current revision. The demo ids belong to the operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from analysis.data_forms import CONVERTED_SUFFIXES, DataSourceSpec, Fit
from analysis.datasets import DatasetRole
from analysis.demo.build import DEMO_IDS
from analysis.errors import AnalysisInputError
from analysis.microscope.precompute_queue import enqueue_record
from analysis.models.registry import ModelRecord, ModelRegistry, RegisterModelSpec
from analysis.server_files import (
    DATA_ROOTS_ENV,
    allowed_roots,
    max_upload_bytes,
    resolve_allowed_path,
    store_upload,
)
from ui.admission import admitted
from ui.shared import user_errors

PENDING_KEY = "loupe:pending-registration"
MODEL_SUFFIXES = (".keras", ".h5")
DATA_SUFFIXES = (".npz", *CONVERTED_SUFFIXES)
DEMO_ID = (
    "model id {model_id!r} belongs to a demo model; only the server's operator replaces it "
    "(python -m analysis models build-demo). Choose another id"
)
CODE_NOTE = (
    "Models whose files hold code (Lambda layers, custom objects) are refused here: only the server's "
    "operator can trust a model's code, from the command line (`models add --trust-model-code`)."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingRegistration:
    """A checked registration that waits for its replacement to be confirmed."""

    model_id: str
    source: Path
    data: Path | DataSourceSpec | None
    current: str
    current_file: str
    registered_at: str


def add_model_form(registry: ModelRegistry) -> None:
    roots = allowed_roots()
    megabytes = max_upload_bytes() / 2**20
    with st.form("add-model"):
        model_id = st.text_input("Id (a short slug, e.g. my-cnn)")
        upload = st.file_uploader(f"Upload a .keras or .h5 model (at most {megabytes:,.0f} MB)", type=["keras", "h5"])
        path = st.text_input("…or a model path in the allowed folders (.keras, .h5 or SavedModel)") if roots else ""
        data_upload = st.file_uploader(
            "Optional: a data set, .npz (x, y, …) or a .csv / .parquet table", type=["npz", "csv", "parquet"]
        )
        data_path = (
            st.text_input("…or a data path in the allowed folders: .npz, table, or an image folder") if roots else ""
        )
        label_column, meta_columns = st.columns(2)
        label = label_column.text_input("Table: label column", value="label")
        meta = meta_columns.text_input("Table: metadata columns (comma-separated, for slicing)")
        features_column, fit_column = st.columns(2)
        features = features_column.text_input("Table: feature columns (default: every numeric one)")
        fit = fit_column.radio("Images: fit to the model's size", [f.value for f in Fit], horizontal=True)
        submitted = st.form_submit_button("Register", type="primary")
    st.caption(CODE_NOTE)
    if roots:
        st.caption("Allowed folders: " + ", ".join(f"`{root}`" for root in roots))
    else:
        st.caption(
            f"This server reads no server paths (its operator allows no folders, {DATA_ROOTS_ENV}): upload files."
        )
    if not submitted:
        return
    with user_errors():
        spec = RegisterModelSpec(path=Path("."), model_id=model_id.strip())  # checks the id
        if spec.model_id in DEMO_IDS:
            raise AnalysisInputError(DEMO_ID.format(model_id=spec.model_id))
        if upload is not None:
            source = store_upload(upload.getbuffer(), upload.name, suffixes=MODEL_SUFFIXES)
        elif path.strip():
            source = resolve_allowed_path(path, roots, folders=True)
        else:
            raise AnalysisInputError("upload a .keras or .h5 model" + (" or give its path" if roots else ""))
        if data_upload is not None:
            data = store_upload(data_upload.getbuffer(), data_upload.name, suffixes=DATA_SUFFIXES)
        else:
            data = resolve_allowed_path(data_path, roots, folders=True) if data_path.strip() else None
        if data is not None and (data.is_dir() or data.suffix.lower() in CONVERTED_SUFFIXES):
            data = DataSourceSpec(path=data, label=label.strip() or "label", features=features, meta=meta, fit=Fit(fit))
        if spec.model_id in registry.ids():
            current = registry.get(spec.model_id).current
            st.session_state[PENDING_KEY] = PendingRegistration(
                model_id=spec.model_id,
                source=source,
                data=data,
                current=current.revision,
                current_file=Path(current.path).name,
                registered_at=current.registered_at,
            )
            st.rerun()
        _register(registry, spec.model_id, source, data, replaces=None)


def confirm_replacement(registry: ModelRegistry) -> None:
    """The confirmation of a registration under a taken id, if one waits."""
    pending: PendingRegistration | None = st.session_state.get(PENDING_KEY)
    if pending is None:
        return
    holder = st.empty()
    with holder.container():
        st.warning(
            f"Model `{pending.model_id}` exists. Registering `{pending.source.name}` replaces its current revision "
            f"`{pending.current[:12]}` (file `{pending.current_file}`, registered {pending.registered_at}) behind "
            "every link without `rev=`; links pinned with `rev=` keep opening the old revision.",
            icon=":material/swap_horiz:",
        )
        confirm, cancel = st.columns([1, 4])
        confirmed = confirm.button(f"Replace {pending.model_id}", type="primary", key="confirm-replace")
        cancelled = cancel.button("Cancel", key="cancel-replace")
    if confirmed or cancelled:
        del st.session_state[PENDING_KEY]
        holder.empty()
    if confirmed:
        with user_errors():
            _register(registry, pending.model_id, pending.source, pending.data, replaces=pending.current)


def _register(
    registry: ModelRegistry, model_id: str, source: Path, data: Path | DataSourceSpec | None, *, replaces: str | None
) -> None:
    spec = RegisterModelSpec(
        path=source,
        model_id=model_id,
        datasets={DatasetRole.DATA: data} if data is not None else {},
        trust_model_code=False,  # never from the web UI, whatever the request says
        replaces=replaces,
    )
    with admitted("register", f"registering {model_id}"), st.spinner("Loading the model, converting its data…"):
        added: ModelRecord = registry.register(spec)
    enqueue_record(added)  # the background worker renders every unit of every layer
    st.success(f"Registered {added.model_id} at revision {added.current.short}; its units are queued for rendering.")
    st.query_params["model"] = added.model_id
