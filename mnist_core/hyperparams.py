"""What is derived from a hyperparameter's one declaration (a field of config.TrainConfig).

A field made by `hyperparameter(...)` carries a Hyperparameter in its metadata; its type (int,
float, bool, or str with choices) comes from the field's annotation. From those: `check` (the
messages `validate` raises), `config_flags` (a config as `train` flags), `add_flags` and
`flag_values` (the `train` command's flags, and back), and `card_entries` (how a card says them).
The Train page builds its form from `hyperparameters` too. Each function takes the config class,
so a subclass with one more field gets all of it (tests/core/test_config.py shows one).
"""

import argparse
import math
import string
from dataclasses import MISSING, dataclass, field, fields, replace
from functools import cache
from typing import Any, get_type_hints

_METADATA_KEY = "hyperparameter"


class ConfigError(ValueError):
    """A hyperparameter or name is out of range; the message says which and why."""


@dataclass(frozen=True)
class Hyperparameter:
    """What `hyperparameter(...)` declares, then what `hyperparameters` fills in from the field."""

    label: str  # on the Train page
    help: str = ""  # the flag's help and the page's tooltip, both with the range appended
    low: float | None = None  # an int's or a float's range
    high: float | None = None
    low_inclusive: bool = True  # False: `low` itself is refused (a learning rate of 0 learns nothing)
    choices: tuple = ()  # a str's allowed values
    flag: str = ""  # default: --name-with-dashes
    what: str = ""  # how messages and cards name it; default: the name with spaces
    card: str | None = None  # "{}" is the value, "{other_field}" another's, "(s)" a plural; "" says nothing
    step: float | None = None  # the page's +/- step (None: Streamlit's)
    format: str | None = None  # the page's number format
    turns_on: str = ""  # a bool field that giving this flag switches on, unless that flag is given too
    # Filled in from the field by `hyperparameters`:
    name: str = ""
    kind: type = object
    default: Any = field(default_factory=lambda: MISSING)  # MISSING: none (a plain `= MISSING` would mean required)

    @property
    def bounds(self) -> str:
        """The range as messages and help texts write it: 1-500, [0.0, 0.9] or (0.0, 10.0]."""
        if self.kind is int:
            return f"{self.low}-{self.high}"
        return f"{'[' if self.low_inclusive else '('}{self.low}, {self.high}]" if self.kind is float else ""

    @property
    def explained(self) -> str:
        """The help text, with the range when there is one."""
        return "; ".join(text for text in (self.help, self.bounds) if text)


def hyperparameter(label: str, *, default=MISSING, **declaration):
    """A dataclass field declaring one hyperparameter (see Hyperparameter for what may be said);
    without a default, every preset must give it a value."""
    return field(default=default, metadata={_METADATA_KEY: Hyperparameter(label, **declaration)})


@cache
def hyperparameters(config_type: type) -> tuple[Hyperparameter, ...]:
    """Every hyperparameter `config_type` declares, in declaration order, completed from its field."""
    types = get_type_hints(config_type)
    declared = []
    for f in fields(config_type):
        if _METADATA_KEY not in f.metadata:
            continue
        h, kind = f.metadata[_METADATA_KEY], types[f.name]
        if (kind not in (int, float, bool, str) or (kind is str) != bool(h.choices)
                or (kind in (int, float) and None in (h.low, h.high))):
            raise TypeError(f"hyperparameter {f.name}: an int or float needs low and high, a str its choices, "
                            "a bool neither")
        what = h.what or f.name.replace("_", " ")
        declared.append(replace(h, name=f.name, kind=kind, default=f.default, what=what,
                                flag=h.flag or "--" + f.name.replace("_", "-"),
                                card=f"{what} {{}}" if h.card is None else h.card))
    return tuple(declared)


def check(h: Hyperparameter, value) -> None:
    """Raise ConfigError when `value` is not a valid `h`."""
    if h.kind is bool and not isinstance(value, bool):
        raise ConfigError(f"{h.what} must be on or off, got {value!r}")
    if h.kind is str and value not in h.choices:
        raise ConfigError(f"unknown {h.what} {value!r}; choose one of {', '.join(h.choices)}")
    if h.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):  # True is an int to Python, not to a person
            raise ConfigError(f"{h.what} must be a whole number, got {value!r}")
        if not h.low <= value <= h.high:
            raise ConfigError(f"{h.what} must be between {h.low} and {h.high}, got {value}")
    if h.kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{h.what} must be a finite number, got {value!r}")
        if value < h.low or (value == h.low and not h.low_inclusive) or value > h.high:
            raise ConfigError(f"{h.what} must be in {h.bounds}, got {value}")


def config_flags(config) -> list[str]:
    """The `train` flags giving every hyperparameter of `config` its value (floats as repr: exact)."""
    flags = []
    for h in hyperparameters(type(config)):
        value = getattr(config, h.name)
        if h.kind is bool:
            flags.append(h.flag if value else "--no-" + h.flag.removeprefix("--"))
        else:
            flags += [h.flag, repr(value) if h.kind is float else str(value)]
    return flags


def add_flags(command: argparse.ArgumentParser, config_type: type) -> None:
    """A flag per hyperparameter; one not given is None, which keeps the preset's value."""
    for h in hyperparameters(config_type):
        described = dict(dest=h.name, help=h.explained.replace("%", "%%"))  # argparse formats help with %
        if h.kind is bool:
            command.add_argument(h.flag, action=argparse.BooleanOptionalAction, default=None, **described)
        else:
            command.add_argument(h.flag, type=h.kind, choices=h.choices or None, **described,
                                 metavar=None if h.choices else {int: "N", float: "X"}[h.kind])


def flag_values(args: argparse.Namespace, config_type: type) -> dict:
    """The hyperparameters `args` (parsed by add_flags' flags) give, None for those not given."""
    values = {h.name: getattr(args, h.name) for h in hyperparameters(config_type)}
    for h in hyperparameters(config_type):
        if h.turns_on and values[h.name] is not None and values[h.turns_on] is None:
            values[h.turns_on] = True
    return values


class _Unknown(dict):
    def __missing__(self, key) -> str:
        return "?"  # an older card may lack a field another's entry names


def card_entries(values: dict, config_type: type) -> list[str]:
    """How a card says its hyperparameters, in declaration order: one entry per field it holds, but
    none for a field at its declared default (a field newer than the card is absent: also none)."""
    said = _Unknown({key: ("on" if value else "off") if isinstance(value, bool) else value
                     for key, value in values.items()})
    entries = []
    for h in hyperparameters(config_type):
        if not h.card or h.name not in values or (h.default is not MISSING and values[h.name] == h.default):
            continue
        text = string.Formatter().vformat(h.card, (said[h.name],), said)
        entries.append(text.replace("(s)", "" if values[h.name] == 1 else "s"))
    return entries
