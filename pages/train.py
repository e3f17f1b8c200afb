"""Train: pick a preset and hyperparameters, watch the curves grow live, stop at any time."""

import time

import streamlit as st

from mnist_core import ConfigError, make_config
from mnist_core.config import LR_SCHEDULES, OPTIMIZERS, PRESETS
from mnist_core.jobs import FAILED, SAVED, JobBusyError, current_job, start_training
from pages import active_model, charts, deep_link
from pages.redact import without_paths

deep_link.require_navigation()

st.title("Train a network")

preset_name = st.selectbox("Preset", list(PRESETS), format_func=lambda n: f"{n} — {PRESETS[n].description}",
                           on_change=lambda: st.session_state.pop("run_name", None))
defaults = PRESETS[preset_name].defaults
if st.session_state.pop("fresh_run_name", False) or "run_name" not in st.session_state:
    # A fixed default, renewed only after a start: a changing one would reset what was typed.
    st.session_state.run_name = f"{preset_name}-{time.strftime('%Y%m%d-%H%M%S')}"
with st.form("train-form"):
    c1, c2, c3, c4 = st.columns(4)
    epochs = c1.number_input("Epochs", value=defaults.epochs, step=1)
    batch_size = c2.number_input("Batch size", value=defaults.batch_size, step=1)
    learning_rate = c3.number_input("Learning rate", value=defaults.learning_rate, format="%.5f", step=1e-4)
    optimizer = c4.selectbox("Optimizer", OPTIMIZERS, index=OPTIMIZERS.index(defaults.optimizer))
    c1, c2, c3, c4 = st.columns(4, vertical_alignment="bottom")
    lr_schedule = c1.selectbox("Learning-rate schedule", LR_SCHEDULES, index=LR_SCHEDULES.index(defaults.lr_schedule))
    dropout = c2.number_input("Dropout", value=defaults.dropout, step=0.05)
    label_smoothing = c3.number_input("Label smoothing", value=defaults.label_smoothing, step=0.05,
                                      help="Share of each target spread over all ten classes (0 = off)")
    augment = c4.toggle("Augmentation", value=defaults.augment, help="Random stroke width, rotation, zoom and shift")
    c1, c2, c3, c4 = st.columns(4, vertical_alignment="bottom")
    early_stopping = c1.toggle("Early stopping", value=defaults.early_stopping)
    patience = c2.number_input("Patience (epochs)", value=defaults.patience, step=1)
    validation_size = c3.number_input("Validation images", value=defaults.validation_size, step=500)
    train_size = c4.number_input("Training images (0 = all)", value=defaults.train_size, step=1000)
    c1, c2 = st.columns([3, 1])
    name = c1.text_input("Run name", key="run_name", max_chars=64)
    seed = c2.number_input("Seed", value=defaults.seed, step=1)
    submitted = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")

if submitted:
    try:
        config = make_config(preset_name, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                             optimizer=optimizer, dropout=dropout, lr_schedule=lr_schedule,
                             label_smoothing=label_smoothing,
                             validation_size=validation_size, train_size=train_size,
                             early_stopping=early_stopping, patience=patience, augment=augment, seed=seed)
        start_training(config, name)
        st.session_state.fresh_run_name = True
    except ConfigError as exc:
        st.error(f"Not started: {without_paths(exc)}")
    except JobBusyError as exc:
        st.warning(f"Not started: {exc}. Its progress is shown below.")


def show_job(job) -> None:
    """Progress, live curves, Stop, and the result once saved."""
    progress = job.progress
    st.subheader(f"Run {job.name} · {job.config.preset} · {job.status}")
    if progress is None:
        st.progress(0.0, text="Starting TensorFlow, loading data and building the network…")
    else:
        eta = "" if not job.active else f" · ETA {progress.eta:.0f} s"
        st.progress(progress.fraction, text=f"Epoch {progress.epoch}/{progress.epochs} · batch {progress.batch}/"
                    f"{progress.batches_per_epoch} · {progress.elapsed:.0f} s elapsed{eta}")
    if job.active:
        st.button("Stop", icon=":material/stop:", disabled=job.stop.is_set(), on_click=job.request_stop,
                  help="Ends training after the current batch; the partial run is saved.")
    if job.stop.is_set() and job.active:
        st.info("Stopping after this batch, then saving the partial run…")
    if job.epoch_logs:
        history = {key: [e.get(key) for e in job.epoch_logs] for key in ("loss", "accuracy", "val_loss", "val_accuracy")}
        st.plotly_chart(charts.epoch_curves(history), width="stretch")
    if job.batch_points:
        st.plotly_chart(charts.batch_curve(job.batch_points), width="stretch")
    if job.status == FAILED:
        st.error(f"Training failed: {without_paths(job.error)}")
    if job.status == SAVED:
        card = job.saved.card
        st.success(f"Saved **{job.name}** ({job.ended}): test accuracy **{card['test_accuracy']:.2%}** after "
                   f"{card['epochs_done']} epoch{'s' if card['epochs_done'] != 1 else ''} in {card['wall_time_seconds']:.0f} s.")
        if st.session_state.get("toasted") != job.name:
            st.session_state.toasted = job.name
            st.toast(f"Saved {job.name}: {card['test_accuracy']:.2%}", icon="✅")
        st.button("Make it the active model", on_click=active_model.make_active, args=(job.name,),
                  disabled=active_model.name() == job.name)


job = current_job()
if job is not None:
    @st.fragment(run_every=1.0 if job.active else None)
    def live_view():
        current = current_job()
        show_job(current)
        if not current.active and st.session_state.get("watched_active") == current.name:
            st.session_state.watched_active = None
            st.rerun(scope="app")  # one full rerun stops the polling and refreshes the model picker
        if current.active:
            st.session_state.watched_active = current.name

    live_view()
else:
    st.caption("No training has run on this server yet. Trainings run one at a time, in the background: "
               "you can leave this page or close the tab, and the run finishes and is saved. If the server "
               "stops, the run stops too and saves what it has learnt so far.")
