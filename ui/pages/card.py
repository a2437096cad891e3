"""/card?model=<id>[&records=a,b]: write a model card's fields (saved as you go), preview it, download it."""

from __future__ import annotations

import streamlit as st

from analysis.errors import AnalysisInputError
from analysis.model_card import (
    CardFieldStore,
    CardFormat,
    ModelCardFields,
    ModelCardSpec,
    build_model_card,
    render_card,
)
from analysis.model_card.assemble import CARD_KINDS, select_records
from analysis.model_card.candidates import list_candidates
from analysis.model_card.form import FORM_FIELDS, fields_to_form, form_key_for, form_to_fields
from analysis.model_card.lineage import build_lineage
from analysis.records import RecordStore
from ui.access import can_write, sign_in_hint
from ui.card_views import preview_html, show_candidates
from ui.lineage_views import show_lineage
from ui.shared import model_picker, redact_paths, user_errors

st.title("Model card")
model = model_picker()
if model is None:
    st.stop()
revision = model.current
store = CardFieldStore()
stored = store.load(model.model_id, revision.revision)
base = stored.fields if stored else ModelCardFields()
writer = can_write()  # viewers see the card and its fields; only writers edit them or choose its evidence
st.caption(
    f"Describes revision `{revision.short}` of `{model.model_id}` (the current one). "
    + ("Fields are saved as you type." if writer else f"Read-only: editing the fields needs a writer. {sign_in_hint()}")
)
if stored and stored.inherited_for(revision.revision):
    st.info(f"Fields carried over from revision {stored.revision[:12]}; editing saves them for this revision.")

candidates = list_candidates(model.model_id, revision.revision, RecordStore(), CARD_KINDS)
wanted = st.query_params.get("records")
# Empty ids are dropped, as ModelCardSpec does: `records=,` cites nothing, like `--records ,`.
ids = [r.strip() for r in wanted.split(",") if r.strip()] if wanted is not None else None
try:
    chosen = select_records(model.model_id, revision.revision, ids, RecordStore())
except AnalysisInputError as error:  # unknown ids, other models' records: the exact message, and a way on
    st.error(redact_paths(str(error)), icon=":material/error:")
    st.page_link(
        "ui/pages/card.py",
        label=f"Open the card of {model.model_id} with its default evidence instead",
        icon=":material/arrow_forward:",
        query_params={"model": model.model_id},
    )
    st.stop()
show_candidates(candidates, chosen, pinned=ids is not None)
labels = {c.record.record_id: f"{c.record.record_id} · {c.record.kind} · {c.summary()}" for c in candidates}
cited = st.multiselect(
    "Records the card cites (pinned in the link)" if ids is not None else "Records the card cites (the default)",
    list(labels),
    default=[r.record_id for r in chosen],
    format_func=labels.get,
    disabled=not writer,
)
if not writer:
    cited = [r.record_id for r in chosen]  # the link's choice, whatever the widget says
elif cited != [r.record_id for r in chosen]:
    st.query_params["records"] = ",".join(cited)  # pinned: the link now reopens this card

form_column, preview_column = st.columns([2, 3])
with form_column:
    texts = fields_to_form(base)
    problems: dict[str, list[str]] = {}
    keys = {field.key: f"card:{model.model_id}:{field.key}" for field in FORM_FIELDS}
    draft = form_to_fields({k: st.session_state.get(keys[k], text) for k, text in texts.items()}, base)
    for problem in draft.problems():
        problems.setdefault(form_key_for(problem.path), []).append(problem.message)
    values = {}
    for field in FORM_FIELDS:
        widget = st.text_area if field.multiline else st.text_input
        values[field.key] = widget(
            field.label, value=texts[field.key], help=field.help, key=keys[field.key], disabled=not writer
        )
        for message in problems.get(field.key, []) if writer else []:
            st.error(message, icon=":material/error:")
    fields = form_to_fields(values, base) if writer else base
    if writer and fields != base:
        store.save(model.model_id, revision.revision, fields)

with preview_column:
    if fields.problems():
        if writer:
            st.warning("Fix the problems shown next to the fields to generate the card.", icon=":material/edit_note:")
        else:
            st.info("This card is not complete yet: a writer fills in its fields.", icon=":material/edit_note:")
        st.stop()
    with user_errors():
        card = build_model_card(ModelCardSpec(model_id=model.model_id, fields=fields, record_ids=tuple(cited)))
    downloads = [*st.columns(2), *st.columns(2)]  # four in a row cut 'Hugging Face README' short
    for column, card_format in zip(downloads, CardFormat, strict=True):
        name = (
            card_format.file_name
            if card_format is CardFormat.HUGGING_FACE
            else f"{model.model_id}-{card_format.file_name}"
        )
        column.download_button(
            card_format.label,
            render_card(card, card_format),
            file_name=name,
            mime=card_format.media_type,
            key=f"download-{card_format.value}",
        )
    st.success(
        f"Valid Model Card Toolkit v0.0.2 card citing {len(card.cited_record_ids)} record(s).",
        icon=":material/verified:",
    )
    # st.iframe (not st.html): the card is a whole page with its own <style>, kept out of the app's CSS.
    # Its fields are escaped by the card template; the iframe only shows it, as the download does.
    st.iframe(preview_html(render_card(card, CardFormat.HTML)), alt=f"Model card of {model.model_id}")
    card_json = (f"{model.model_id}-{CardFormat.JSON.file_name}", render_card(card, CardFormat.JSON).encode())
    show_lineage(
        build_lineage([RecordStore().get(i) for i in card.cited_record_ids], card=card_json, bundles=card.bundles)
    )
