"""Teaching a model one writer's hand: before and after, on digits of theirs it was not taught.

    python -m bench.measure.accuracy.personalization [--model NAME] [--data PATH] [--mnist PATH] [--writers 20]
        [--threads N] [--json]

For each of the writers of the UNIPEN development set with the most digits (at least 40 each),
every digit is drawn as a person draws on the Draw page's canvas (bench/harness/drawings/unipen.py)
and made into the model's input as the app makes it. Half of each writer's digits, stratified by
digit, are taught to a copy of the model (mnist_core.training.finetune); the other half measure it, before
and after. Prints per writer, the mean and the worst writer, the MNIST test accuracy change of
each copy, and the seconds each fine-tune took (the fine-tune alone, not the evaluations).
Teaching personal copies is what this measures: the default model never trains on this set.
"""

import argparse
import collections
import json
import os
import re
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.harness.paths import SHARED_DATA
from bench.harness.drawings.unipen import DEFAULT_DATA, as_personal_set, error_sheet, load_unipen
from mnist_core.training import finetune
from mnist_core.data import load_arrays
from mnist_core.runs.store import find_run
from mnist_core.keras_runs.importing import load_keras_model
from mnist_core.training.keras_reader import keras_reader
from mnist_core.training.train import limit_threads

DEFAULT_MNIST = SHARED_DATA / "mnist.npz"
MIN_DIGITS = 40
GOAL_MEAN, GOAL_WORST, GOAL_MNIST_DROP = 0.985, 0.96, 0.002


def writer_of(source: str) -> str:
    """The writer of a sample: its file, except for the three writers whose digits span several
    files (gresai30-39, art01/03 trn+tst, pri0 000.0-4), which gives the 204 writers the data's
    README counts."""
    source = re.sub(r"(val/data/gresai3)\d", r"\1", source)
    source = re.sub(r"(art/data/art0\d)(trn|tst)", r"\1", source)
    return re.sub(r"(pri/data/pri0/000)\.\d", r"\1", source)


def writers(samples: list[dict], count: int) -> dict[str, list[dict]]:
    """The `count` writers with the most digits (at least MIN_DIGITS), most first, ties by name."""
    by_writer = collections.defaultdict(list)
    for sample in samples:
        by_writer[writer_of(sample["source"])].append(sample)
    names = sorted((w for w in by_writer if len(by_writer[w]) >= MIN_DIGITS), key=lambda w: (-len(by_writer[w]), w))
    return {name: by_writer[name] for name in names[:count]}


def still_misread(row: dict) -> str:
    pairs = ", ".join(f"{label} as {answer}" for label, answer in row["still_misread"])
    return f"   still misread: {pairs}" if pairs else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="saved run to teach (default: the bundled model)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="unipen_dev.json.gz")
    parser.add_argument("--mnist", type=Path, default=Path(os.environ.get("MNIST_PATH") or DEFAULT_MNIST))
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026, help="seeds the drawings and the taught/held-out split")
    parser.add_argument("--steps", type=int, default=finetune.STEPS)
    parser.add_argument("--personal-per-batch", type=int, default=finetune.PERSONAL_PER_BATCH)
    parser.add_argument("--lr", type=float, default=finetune.LEARNING_RATE)
    parser.add_argument("--threads", type=int, default=0,
                        help="cap TensorFlow's threads, as the app does for a training (0 = all cores)")
    parser.add_argument("--sheet", type=Path, help="save the held-out digits still misread after teaching here (PNG)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        limit_threads(args.threads)

    parent_run = find_run(args.model)
    mnist, _ = load_arrays(args.mnist)  # as the app's fine-tune: replay from all of MNIST's training digits
    parent = load_keras_model(parent_run)
    parent_test = keras_reader(parent, parent_run.card.three_widths).pixel_probabilities(mnist["x_test"])
    before_mnist = float((parent_test.argmax(axis=1) == mnist["y_test"]).mean())
    rows, misread = [], []
    for index, (name, samples) in enumerate(writers(load_unipen(args.data), args.writers).items()):
        personal, refused = as_personal_set(samples, np.random.default_rng([args.seed, index]))
        teaching = finetune.teach(parent_run, parent, personal, mnist, seed=args.seed, parent_test_probabilities=parent_test,
                                  steps=args.steps, personal_per_batch=args.personal_per_batch, learning_rate=args.lr)
        taught, held_out, measured = teaching.taught, teaching.held_out, teaching.figures
        seconds, answers = teaching.result.wall_time, measured.held_out_answers
        wrong = np.flatnonzero(answers != held_out.y)
        misread += [(held_out.x[i], held_out.y[i], answers[i]) for i in wrong]
        rows.append(dict(writer=name, digits=len(personal), refused=refused, taught=len(taught), held_out=len(held_out),
                         before=measured.personal_before, after=measured.personal_after, mnist=measured.mnist_after,
                         seconds=seconds, still_misread=[[int(held_out.y[i]), int(answers[i])] for i in wrong]))
        if not args.json:
            row = rows[-1]
            print(f"{name:30s} {row['digits']:4d} digits ({refused} refused), taught {row['taught']:3d}, "
                  f"held out {row['held_out']:3d}: {row['before']:7.2%} -> {row['after']:7.2%}   "
                  f"MNIST {before_mnist:.2%} -> {row['mnist']:.2%} ({(row['mnist'] - before_mnist) * 100:+.2f} points)"
                  f"   {seconds:5.1f} s{still_misread(row)}", flush=True)
    if args.sheet and misread:
        images, labels, answers = map(np.array, zip(*misread))
        error_sheet(images / 255.0, labels.astype(np.int64), answers, args.sheet)
    after = np.array([r["after"] for r in rows])
    mnist_change = np.array([r["mnist"] for r in rows]) - before_mnist
    seconds = np.array([r["seconds"] for r in rows])
    worst = rows[int(after.argmin())]
    summary = dict(model=args.model or "default", writers=len(rows), steps=args.steps,
                   personal_per_batch=args.personal_per_batch, learning_rate=args.lr,
                   mean_before=float(np.mean([r["before"] for r in rows])), mean_after=float(after.mean()),
                   worst_writer=worst["writer"], worst_before=worst["before"], worst_after=worst["after"],
                   mnist_before=before_mnist, mnist_change_mean=float(mnist_change.mean()),
                   mnist_change_worst=float(mnist_change.min()), seconds_median=float(np.median(seconds)),
                   seconds_max=float(seconds.max()), cpus=os.cpu_count(), threads=args.threads or None)
    if args.json:
        print(json.dumps(dict(summary, rows=rows)))
        return
    print(f"mean over {len(rows)} writers: {summary['mean_before']:.2%} -> {summary['mean_after']:.2%} "
          f"(goal >= {GOAL_MEAN:.1%})")
    print(f"worst writer: {worst['writer']} {worst['before']:.2%} -> {worst['after']:.2%} (goal >= {GOAL_WORST:.0%})")
    print(f"MNIST test: {before_mnist:.2%} before; change after teaching: mean {mnist_change.mean() * 100:+.3f} "
          f"points, worst {mnist_change.min() * 100:+.2f} points (goal >= {-GOAL_MNIST_DROP * 100:+.1f})")
    print(f"seconds per fine-tune ({args.steps} steps, {os.cpu_count()} CPUs, "
          f"TensorFlow threads: {args.threads or 'all'}): median {np.median(seconds):.1f}, "
          f"max {seconds.max():.1f}")


if __name__ == "__main__":
    main()
