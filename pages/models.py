"""Models: every saved run; make one active, compare curves, download, delete your own, upload a network."""

import pandas as pd
import streamlit as st

from mnist_core import ConfigError, StoreError, delete_run, find_run, jobs
from mnist_core.jobs.access import VISITOR, VISITOR_LIMITS
from mnist_core.runs.architecture import MAX_PARAMETERS
from mnist_core.runs.network_file import check_upload
from mnist_core.runs.store import DEFAULT_MODEL, MAX_FILE_BYTES
from ui import active_model, charts, deep_link, loaders
from ui.access import session
from ui.model_card import model_card, training_time
from ui.redact import without_paths

deep_link.require_navigation()

st.title("Saved models")
me = session()
if me.role == VISITOR:
    st.info(f"Runs on this public server are temporary: it keeps {VISITOR_LIMITS.max_runs} visitors' runs and "
            f"{VISITOR_LIMITS.max_megabytes:g} MB, deleting the oldest that no one has active, and a reboot deletes "
            "them all. Download a run's .keras file to keep it, and upload it back below whenever you like.",
            icon=":material/schedule:")
runs = loaders.runs()


def made_by(run) -> str:
    if run.bundled:
        return "bundled"
    owner = run.card.owner
    return "you" if owner == me.owner_id else "someone else" if owner else "—"


table = pd.DataFrame([{
    "name": run.name,
    "preset": run.card.preset,
    "test accuracy": run.card.test_accuracy,
    "epochs": run.card.epochs_done,
    "training time": training_time(run.card.wall_time_seconds),
    "ended": run.card.ended,
    "created": run.card.created,
    "made by": made_by(run),
    "temporary": run.card.temporary,
    "status": without_paths(run.problem or "ok"),
} for run in runs])
selection = st.dataframe(
    table, hide_index=True, on_select="rerun", selection_mode="single-row", key="runs-table", width="stretch",
    column_config={"test accuracy": st.column_config.NumberColumn(format="percent")},
)
rows = selection.selection.rows if selection and selection.selection else []
chosen = runs[rows[0]] if rows and rows[0] < len(runs) else None


def identity(run) -> int | None:
    """Which save of `run` is on disk now (loaders.identity); None once it is gone."""
    try:
        return loaders.identity(run.path)
    except StoreError:
        return None


def delete_chosen(run, seen: int | None) -> None:
    """The confirmation's callback: the run must still be the one shown (`seen`, its identity when
    the page was drawn: not another run that took its name after an eviction), and the permission
    is checked again, on the run as it is now."""
    st.session_state.confirm_delete = None
    if seen is None or identity(run) != seen:
        st.session_state.delete_message = (f"{run.name} is no longer the run you chose to delete (it was deleted, "
                                           "and perhaps another run took its name); nothing was deleted.")
        return
    try:
        now = find_run(run.name)
    except StoreError:
        now = None
    if now is None or not me.may_manage(now.card.owner):
        st.session_state.delete_message = f"Only the session that made {run.name} can delete it."
        return
    try:
        delete_run(run.name)
        if active_model.name() == run.name:
            active_model.make_active(DEFAULT_MODEL)
        st.session_state.delete_message = None
        st.toast(f"Deleted {run.name}")
    except (StoreError, OSError) as exc:
        st.session_state.delete_message = f"Could not delete {run.name}: {without_paths(exc)}"


if st.session_state.get("delete_message"):
    st.error(st.session_state.pop("delete_message"))
if chosen is None:
    st.caption("Select a row to make it active, download it or delete it.")
elif chosen.problem:
    st.error(f"{chosen.name} cannot be used: {without_paths(chosen.problem)}.")
else:
    st.subheader(chosen.name)
    c1, c2, c3 = st.columns(3)
    c1.button("Make active", icon=":material/check_circle:", on_click=active_model.make_active, args=(chosen.name,),
              disabled=active_model.name() == chosen.name)
    try:
        keras_bytes = chosen.keras_path.read_bytes()
    except OSError:  # no .keras file, or deleted (an eviction) while it was being read
        keras_bytes = None
        if chosen.keras_path.parent.is_dir() and not chosen.keras_path.exists():
            c2.caption("This run has no .keras file to download.")
        else:
            c2.caption(f"{chosen.name} was deleted just now (the store keeps a few visitors' runs); nothing to "
                       "download.")
    if keras_bytes is not None:
        c2.download_button("Download .keras", data=keras_bytes, file_name=f"{chosen.name}.keras",
                           icon=":material/download:")
    if chosen.bundled:
        c3.caption("Bundled models cannot be deleted.")
    elif not me.may_manage(chosen.card.owner):
        c3.caption("Only the session that made it, or the deployment's owner, can delete it.")
    elif c3.button("Delete", icon=":material/delete:"):
        st.session_state.confirm_delete = chosen.name
    if st.session_state.get("confirm_delete") == chosen.name:
        st.warning(f"Delete {chosen.name} for good?")
        yes, no = st.columns([1, 6])
        yes.button("Yes, delete", type="primary", on_click=delete_chosen, args=(chosen, identity(chosen)))
        no.button("Cancel", on_click=lambda: st.session_state.update(confirm_delete=None))
    model_card(chosen.card)

st.subheader("Upload a network")
st.caption('Your own Keras network for MNIST, saved in a notebook with `model.save("mine.keras")` (or an older '
           '.h5), or a run downloaded here: inputs 28x28, 28x28x1, 1x28x28 or 784, ordinary layers, at most '
           f'{MAX_PARAMETERS / 1e6:g} million parameters. It is imported in the background, after the trainings.')
importing_unavailable = jobs.training_unavailable()
if importing_unavailable is not None:
    st.warning("Importing " + importing_unavailable.removeprefix("training ") + ".", icon=":material/block:")
with st.form("upload-form", clear_on_submit=True):
    upload = st.file_uploader("Network file", type=["keras", "h5"], max_upload_size=max(1, MAX_FILE_BYTES // 2**20))
    upload_name = st.text_input("Run name", max_chars=64)
    uploaded = st.form_submit_button("Import", icon=":material/upload:", disabled=importing_unavailable is not None)
if uploaded:
    try:
        if upload is None:
            raise ConfigError("choose a .keras or .h5 file first")
        check_upload(upload.getvalue(), "the file")  # refused now, by the rule it breaks, rather than in the queue
        job = jobs.submit_import(upload.getvalue(), upload_name.strip(), owner=me.owner_id, limits=me.limits,
                                 client=me.client_key)
        st.session_state.my_job = job
        st.success(f"Importing **{job.name}**" + (" as soon as the jobs ahead of it end" if job.waiting else "")
                   + ": follow it on the Train page.")
    except (ConfigError, StoreError, jobs.JobBusyError) as exc:
        st.error(f"Not imported: {without_paths(exc)}")

st.subheader("Compare runs")
usable = [run for run in runs if not run.problem]
picked = st.multiselect("Runs to compare", [run.name for run in usable], max_selections=4,
                        default=[run.name for run in usable[:2]])
metric = st.segmented_control("Metric", ["val_accuracy", "val_loss", "accuracy", "loss"], default="val_accuracy",
                              format_func=charts.METRIC_NAMES.get)
if picked and metric:
    histories = {run.name: run.card.history for run in usable if run.name in picked}
    st.plotly_chart(charts.compare_curves(histories, metric), width="stretch")
