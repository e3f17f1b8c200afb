"""Models: every saved run; make one active, compare curves, download, delete."""

import pandas as pd
import streamlit as st

from mnist_core import StoreError, delete_run
from mnist_core.store import DEFAULT_MODEL
from pages import active_model, charts, deep_link, loaders
from pages.model_card import model_card
from pages.redact import without_paths

deep_link.require_navigation()

st.title("Saved models")
runs = loaders.runs()
table = pd.DataFrame([{
    "name": run.name,
    "preset": (run.card or {}).get("preset"),
    "test accuracy": (run.card or {}).get("test_accuracy"),
    "epochs": (run.card or {}).get("epochs_done"),
    "time (s)": (run.card or {}).get("wall_time_seconds"),
    "ended": (run.card or {}).get("ended"),
    "created": (run.card or {}).get("created"),
    "kind": "bundled" if run.bundled else "yours",
    "status": without_paths(run.problem or "ok"),
} for run in runs])
selection = st.dataframe(
    table, hide_index=True, on_select="rerun", selection_mode="single-row", key="runs-table", width="stretch",
    column_config={"test accuracy": st.column_config.NumberColumn(format="percent")},
)
rows = selection.selection.rows if selection and selection.selection else []
chosen = runs[rows[0]] if rows else None

if chosen is None:
    st.caption("Select a row to make it active, download it or delete it.")
elif chosen.problem:
    st.error(f"{chosen.name} cannot be used: {without_paths(chosen.problem)}.")
else:
    st.subheader(chosen.name)
    c1, c2, c3 = st.columns(3)
    c1.button("Make active", icon=":material/check_circle:", on_click=active_model.make_active, args=(chosen.name,),
              disabled=active_model.name() == chosen.name)
    c2.download_button("Download .keras", data=chosen.keras_path.read_bytes() if chosen.keras_path.is_file() else b"",
                       file_name=f"{chosen.name}.keras", icon=":material/download:",
                       disabled=not chosen.keras_path.is_file())
    if chosen.bundled:
        c3.caption("Bundled models cannot be deleted.")
    elif c3.button("Delete", icon=":material/delete:"):
        st.session_state.confirm_delete = chosen.name
    if st.session_state.get("confirm_delete") == chosen.name:
        st.warning(f"Delete {chosen.name} for good?")
        yes, no = st.columns([1, 6])
        if yes.button("Yes, delete", type="primary"):
            try:
                delete_run(chosen.name)
                if active_model.name() == chosen.name:
                    active_model.make_active(DEFAULT_MODEL)
                st.toast(f"Deleted {chosen.name}")
            except (StoreError, OSError) as exc:
                st.error(f"Could not delete {chosen.name}: {without_paths(exc)}")
            st.session_state.confirm_delete = None
            st.rerun()
        if no.button("Cancel"):
            st.session_state.confirm_delete = None
            st.rerun()
    model_card(chosen.card)

st.subheader("Compare runs")
usable = [run for run in runs if not run.problem]
picked = st.multiselect("Runs to compare", [run.name for run in usable], max_selections=4,
                        default=[run.name for run in usable[:2]])
metric = st.segmented_control("Metric", ["val_accuracy", "val_loss", "accuracy", "loss"], default="val_accuracy")
if picked and metric:
    histories = {run.name: run.card.get("history", {}) for run in usable if run.name in picked}
    st.plotly_chart(charts.compare_curves(histories, metric), width="stretch")
