"""How long a person waits for their copy: the whole fine-tune job, as the Draw page's job runs it.

    python -m bench.measure.cost.finetune_job [--writer uqb/data/pe.dat] [--digits 50] [--runs 3]

The writer's first `--digits` UNIPEN digits, drawn as on the canvas, make a personal set; the
job is the command the queue starts for it (jobs.queue.child_command: `python -m mnist_core
finetune --progress json`, one TensorFlow thread on two cores), into a fresh store holding the
bundled default, timed from start to exit. Beside each job, in the same run, the baseline every
job pays before it teaches: a process that only imports TensorFlow and loads MNIST. Prints each
pair, then the medians: the job, its fine-tune alone (from its card), the baseline, and the job
less the baseline.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.harness.drawings.unipen import DEFAULT_DATA, as_personal_set, load_unipen
from mnist_core import personal
from mnist_core.jobs.queue import TRAINING_NICE, TRAINING_THREADS, child_command
from mnist_core.runs.store import BUNDLED_DIR, DEFAULT_MODEL

BASELINE = "import tensorflow; from mnist_core.data import load_arrays; load_arrays(None)"


def personal_set(writer: str, digits: int, seed: int = 0) -> personal.PersonalSet:
    samples = [s for s in load_unipen(DEFAULT_DATA) if s["source"] == writer][:digits]
    drawn, refused = as_personal_set(samples, np.random.default_rng(seed))
    if len(samples) < digits or refused:
        raise SystemExit(f"{writer} has {len(samples) - refused} drawable digits, fewer than {digits}")
    return drawn


def timed(command: list[str]) -> float:
    """Seconds from start to exit. Its stdin stays open, as the queue keeps it: a job reads the end
    of its stdin as "stop"."""
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors,
                                 env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
        child.wait()
        seconds = time.perf_counter() - started
        child.stdin.close()
        if child.returncode:
            errors.seek(0)
            raise SystemExit(f"{command[:4]} failed:\n{errors.read()[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writer", default="uqb/data/pe.dat")
    parser.add_argument("--digits", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        examples = personal.save(personal_set(args.writer, args.digits), Path(folder) / "personal.npz")
        for run in range(args.runs):
            store = Path(folder) / f"store-{run}"
            shutil.copytree(BUNDLED_DIR / DEFAULT_MODEL, store / DEFAULT_MODEL)
            command = child_command(["finetune", "--model", DEFAULT_MODEL, "--progress", "json"], f"job-{run}",
                                    store, None, TRAINING_THREADS, TRAINING_NICE) + ["--examples", str(examples)]
            job = timed(command)
            baseline = timed([sys.executable, "-c", BASELINE])
            card = json.loads((store / f"job-{run}" / "card.json").read_text())
            if card["ended"] != "finished":
                raise SystemExit(f"the job ended {card['ended']!r}, not 'finished'")
            rows.append((job, card["wall_time_seconds"], baseline))
            print(f"run {run + 1}: job {job:5.1f} s (its fine-tune {rows[-1][1]:4.1f} s), baseline {baseline:4.1f} s, "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
    job, tune, baseline = np.median(np.array(rows), axis=0)
    print(f"{args.digits} digits of {args.writer}, {TRAINING_THREADS} TensorFlow thread(s), {os.cpu_count()} CPUs: "
          f"job median {job:.1f} s (goal <= 30 s), its fine-tune {tune:.1f} s, TensorFlow and MNIST alone "
          f"{baseline:.1f} s, the job less that {job - baseline:.1f} s")


if __name__ == "__main__":
    main()
