"""A saved run's card: accuracy, preset, size, training time, hyperparameters and curves."""

import streamlit as st

from mnist_core.config import TrainConfig
from mnist_core.hyperparams import card_entries
from ui import charts


def training_time(seconds: float | None) -> str:
    """46 min 13 s, 52 s, or — when unknown."""
    if seconds is None:
        return "—"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def hyperparameter_line(card: dict) -> str:
    """The hyperparameters (as config.TrainConfig declares them), how the run reads and what trained it."""
    return " · ".join(card_entries(card.get("hyperparameters", {}), TrainConfig)
                      + (["reads a digit it is unsure of at three stroke widths"] if card.get("three_widths") else [])
                      + ([f"trained with `{card['command']}`"] if card.get("command") else []))


def model_card(card: dict) -> None:
    """Preset, accuracy, size and training time, then the epoch curves."""
    cols = st.columns(4)
    cols[0].metric("Test accuracy", f"{card.get('test_accuracy', 0):.2%}")
    cols[1].metric("Preset", card.get("preset", "?"))
    cols[2].metric("Parameters", f"{card.get('parameters', 0):,}")
    cols[3].metric("Training time", training_time(card.get("wall_time_seconds", 0)),
                   help=f"{card.get('epochs_done', '?')} epochs, {card.get('ended', '?')}")
    st.caption(hyperparameter_line(card))
    if (taught := card.get("personal")) and taught.get("held_out"):
        held, before, after = taught["held_out"], taught["personal_before"], taught["personal_after"]
        st.caption(f"Fine-tuned from {card.get('parent', '?')} on {taught['taught']} of a person's digits; of their "
                   f"{held} held-out digits it reads {round(after * held)} ({round(before * held)} before); MNIST "
                   f"test {taught['mnist_before']:.2%} before.")
    if card.get("history", {}).get("loss"):
        st.plotly_chart(charts.epoch_curves(card["history"]), width="stretch")
