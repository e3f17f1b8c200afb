"""A saved run's card: accuracy, preset, size, training time, hyperparameters and curves."""

import streamlit as st

from mnist_core.card import RunCard
from mnist_core.config import TrainConfig
from mnist_core.hyperparams import card_entries
from ui import charts


def training_time(seconds: float | None) -> str:
    """46 min 13 s, 52 s, or — when unknown."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def hyperparameter_line(card: RunCard) -> str:
    """The hyperparameters (as config.TrainConfig declares them), how the run reads and what trained it."""
    return " · ".join(card_entries(card.hyperparameters, TrainConfig)
                      + (["reads a digit it is unsure of at three stroke widths"] if card.three_widths else [])
                      + ([f"trained with `{card.command}`"] if card.command else []))


def imported_line(card: RunCard) -> str | None:
    """What a network brought in from a file is and how the app reads it; None for the app's own."""
    if not (imported := card.imported):
        return None
    scale = imported.get("pixel_scale", "?")
    softmax = "a softmax added (it answered logits)" if imported.get("softmax_added") else "ends in its own softmax"
    return (f"Imported network: {imported.get('description', '?')} · {card.parameters:,} parameters · input "
            f"{tuple(imported.get('input_shape', ()))} · pixels at {scale} (the scale it reads MNIST best at) · "
            f"{softmax}.")


def model_card(card: RunCard) -> None:
    """Preset, accuracy, size and training time, then the epoch curves."""
    cols = st.columns(4)
    cols[0].metric("Test accuracy", f"{card.test_accuracy:.2%}")
    cols[1].metric("Preset", card.preset)
    cols[2].metric("Parameters", f"{card.parameters:,}")
    cols[3].metric("Training time", training_time(card.wall_time_seconds),
                   help=f"{card.epochs_done} epochs, {card.ended}")
    st.caption(hyperparameter_line(card))
    if line := imported_line(card):
        st.caption(line)
    if (taught := card.personal) and taught.get("held_out"):
        held, before, after = taught["held_out"], taught["personal_before"], taught["personal_after"]
        st.caption(f"Fine-tuned from {card.parent or '?'} on {taught['taught']} of a person's digits; of their "
                   f"{held} held-out digits it reads {round(after * held)} ({round(before * held)} before); MNIST "
                   f"test {taught['mnist_before']:.2%} before.")
    if card.history.get("loss"):
        st.plotly_chart(charts.epoch_curves(card.history), width="stretch")
