"""A saved run's card: accuracy, preset, size, training time, hyperparameters and curves."""

import streamlit as st

from pages import charts


def training_time(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def hyperparameter_line(card: dict) -> str:
    hp = card.get("hyperparameters", {})
    return (f"{hp.get('epochs', '?')} epoch{'' if hp.get('epochs') == 1 else 's'} · batch {hp.get('batch_size', '?')} · "
            f"{hp.get('optimizer', '?')} lr {hp.get('learning_rate', '?')} ({hp.get('lr_schedule', '?')}) · "
            f"dropout {hp.get('dropout', '?')} · augmentation {'on' if hp.get('augment') else 'off'}"
            + (f" · label smoothing {hp['label_smoothing']}" if hp.get("label_smoothing") else "")
            + (f" · trained with `{card['command']}`" if card.get("command") else ""))


def model_card(card: dict) -> None:
    """Preset, accuracy, size and training time, then the epoch curves."""
    cols = st.columns(4)
    cols[0].metric("Test accuracy", f"{card.get('test_accuracy', 0):.2%}")
    cols[1].metric("Preset", card.get("preset", "?"))
    cols[2].metric("Parameters", f"{card.get('parameters', 0):,}")
    cols[3].metric("Training time", training_time(card.get("wall_time_seconds", 0)),
                   help=f"{card.get('epochs_done', '?')} epochs, {card.get('ended', '?')}")
    st.caption(hyperparameter_line(card))
    if card.get("history", {}).get("loss"):
        st.plotly_chart(charts.epoch_curves(card["history"]), width="stretch")
