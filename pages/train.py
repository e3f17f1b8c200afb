"""Train: pick a preset and hyperparameters, wait your turn, watch the curves grow live, stop at any time."""

import time

import streamlit as st

from mnist_core import ConfigError, jobs, make_config
from mnist_core.jobs.access import VISITOR, VISITOR_LIMITS
from mnist_core.config import PRESETS, TrainConfig
from mnist_core.hyperparams import hyperparameters
from ui import active_model, charts, deep_link
from ui.access import session
from ui.redact import without_paths

deep_link.require_navigation()

st.title("Train a network")
me = session()
if me.role == VISITOR:
    limits = VISITOR_LIMITS
    st.info(f"This server is shared, so a training here may use about {limits.cpu_seconds / 60:g} CPU-minutes "
            "(more epochs or images are refused up front, with the largest allowed value), a batch of at most "
            + ", ".join(f"{size} for {preset}" for preset, size in limits.max_batch_size.items())
            + f", and is stopped (and saved) after {limits.wall_seconds / 60:g} minutes. One training runs at a "
            f"time; up to {limits.max_waiting} wait their turn, one per person. Runs are temporary: the store keeps "
            f"{limits.max_runs} visitors' runs and drops the oldest; download a run on the Models page to keep it.",
            icon=":material/group:")

unavailable = jobs.training_unavailable()
if unavailable is not None:
    st.warning(unavailable[:1].upper() + unavailable[1:] + ".", icon=":material/block:")

preset_name = st.selectbox("Preset", list(PRESETS), format_func=lambda n: f"{n} — {PRESETS[n].description}",
                           on_change=lambda: st.session_state.pop("run_name", None))
defaults = PRESETS[preset_name].defaults
if st.session_state.pop("fresh_run_name", False) or "run_name" not in st.session_state:
    # A fixed default, renewed only after a start: a changing one would reset what was typed.
    st.session_state.run_name = f"{preset_name}-{time.strftime('%Y%m%d-%H%M%S')}"


def widget(cell, h, default):
    """The form's widget for the declared hyperparameter `h`, showing the preset's `default`. Its key
    names the preset, so choosing another preset shows that preset's values. No min or max: config's
    refusal says what the range is, where a widget would only clamp."""
    key, tip = f"{preset_name}.{h.name}", h.explained[:1].upper() + h.explained[1:]
    if h.kind is bool:
        return cell.toggle(h.label, value=default, help=tip, key=key)
    if h.choices:
        return cell.selectbox(h.label, h.choices, index=h.choices.index(default), help=tip, key=key)
    return cell.number_input(h.label, value=default, step=h.step, format=h.format, help=tip, key=key)


with st.form("train-form"):
    values, declared = {}, hyperparameters(TrainConfig)
    for row in range(0, len(declared), 4):
        for cell, h in zip(st.columns(4, vertical_alignment="bottom"), declared[row:row + 4]):
            values[h.name] = widget(cell, h, getattr(defaults, h.name))
    name = st.columns([2, 2])[0].text_input("Run name", key="run_name", max_chars=64)
    submitted = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:",
                                      disabled=unavailable is not None)

if submitted:
    try:
        config = make_config(preset_name, **values)
        mine = st.session_state.my_job = jobs.submit_training(config, name, owner=me.owner_id, limits=me.limits,
                                                                client=me.client_key)
        st.session_state.fresh_run_name = True
        if (place := jobs.place_in_queue(mine)) is not None:
            st.warning(f"Queued: a {place[1][0].what} ({place[1][0].name!r}) is already running; yours starts "
                       "when its turn comes.")
    except ConfigError as exc:
        st.error(f"Not started: {without_paths(exc)}")
    except jobs.JobBusyError as exc:
        st.warning(f"Not started: {exc}.")


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def show_queue() -> None:
    """The jobs waiting, and where this session's stands."""
    waiting, mine = jobs.waiting_jobs(), st.session_state.get("my_job")
    place = jobs.place_in_queue(mine) if mine is not None else None
    if place is not None:
        number, ahead, seconds = place
        st.info(f"Your {mine.what} **{mine.name}** is number {number} in the queue, behind "
                + ", ".join(f"{job.name} ({'running' if job.active else 'waiting'}, about "
                            f"{duration(job.seconds_left())}{' left' if job.active else ''})" for job in ahead)
                + f". It should start in about {duration(seconds)}.", icon=":material/hourglass_top:")
        st.button("Cancel it", icon=":material/close:", on_click=jobs.cancel, args=(mine,), key="cancel-mine")
    elif mine is not None and mine.status == jobs.CANCELLED:
        st.warning(f"Your {mine.what} **{mine.name}** was cancelled.")
    if waiting:
        st.caption("Waiting: " + ", ".join(f"{i}. {job.name} ({job.config.preset if job.config else job.what}, about "
                                          f"{duration(job.seconds_left())}{', yours' if job is mine else ''})"
                                          for i, job in enumerate(waiting, 1)))


def show_job(job) -> None:
    """Progress, live curves, Stop, and the result once saved."""
    progress = job.progress
    st.subheader(f"Run {job.name} · {job.config.preset if job.config else job.what} · {job.status}")
    if job.what == jobs.IMPORT:
        st.progress(1.0 if job.saved else 0.0, text="Loading the network, evaluating it on the test set, saving it…")
    elif progress is None:
        st.progress(0.0, text="Starting TensorFlow, loading data and building the network…")
    else:
        eta = "" if not job.active else f" · ETA {progress.eta:.0f} s"
        st.progress(progress.fraction, text=f"Epoch {progress.epoch}/{progress.epochs} · batch {progress.batch}/"
                    f"{progress.batches_per_epoch} · {progress.elapsed:.0f} s elapsed{eta}")
    if job.active and job.config is not None and me.may_manage(job.owner):
        st.button("Stop", icon=":material/stop:", disabled=job.stop.is_set(), on_click=job.request_stop,
                  key=f"stop-{job.name}", help="Ends training after the current batch; the partial run is saved.")
    elif job.active and job.config is not None:
        st.caption("Only the session that started it, or the deployment's owner, can stop it.")
    if job.timed_out:
        st.info(f"Stopped by this server's time limit ({job.limits.wall_seconds / 60:g} minutes); the partial run "
                "is saved.")
    elif job.stop.is_set() and job.active:
        st.info("Stopping after this batch, then saving the partial run…")
    if job.epoch_logs:
        history = {key: [e.get(key) for e in job.epoch_logs] for key in ("loss", "accuracy", "val_loss", "val_accuracy")}
        st.plotly_chart(charts.epoch_curves(history), width="stretch", key=f"epochs-{job.name}")
    if job.batch_points:
        st.plotly_chart(charts.batch_curve(job.batch_points), width="stretch", key=f"batches-{job.name}")
    if job.status == jobs.FAILED:
        st.error(f"{job.what.capitalize()} failed: {without_paths(job.error)}")
    if job.status == jobs.SAVED:
        card = job.saved.card
        epochs = card.epochs_done
        trained = "" if job.config is None else (f" after {epochs} epoch{'s' if epochs != 1 else ''} in "
                                                 f"{card.wall_time_seconds:.0f} s")
        st.success(f"Saved **{job.name}** ({job.ended or 'imported'}): test accuracy "
                   f"**{card.test_accuracy:.2%}**{trained}.")
        if st.session_state.get("toasted") != job.name:
            st.session_state.toasted = job.name
            st.toast(f"Saved {job.name}: {card.test_accuracy:.2%}", icon="✅")
        st.button("Make it the active model", on_click=active_model.make_active, args=(job.name,),
                  key=f"use-{job.name}", disabled=active_model.name() == job.name)


def jobs_state() -> tuple:
    """What decides whether the page polls: the current job, whether it runs, and this session's job."""
    current, mine = jobs.current_job(), st.session_state.get("my_job")
    return current, current is not None and current.active, mine, mine is not None and mine.waiting


st.session_state.seen_jobs = jobs_state()  # as of this full run; the fragment's reruns compare with it
if any(st.session_state.seen_jobs):
    @st.fragment(run_every=1.0 if st.session_state.seen_jobs[1] or st.session_state.seen_jobs[3] else None)
    def live_view():
        state = jobs_state()
        show_queue()
        current, mine = state[0], state[2]
        if mine is not None and mine is not current and mine.status in (jobs.SAVED, jobs.FAILED):
            show_job(mine)  # this session's last job, ended while another began
        if current is not None:
            show_job(current)
        if state != st.session_state.seen_jobs:
            st.rerun(scope="app")  # a job started or ended: start or stop polling, refresh the model picker

    live_view()
else:
    st.caption("No training has run on this server yet. Trainings run one at a time, in the background: "
               "you can leave this page or close the tab, and the run finishes and is saved. If the server "
               "stops, the run stops too and saves what it has learnt so far.")
