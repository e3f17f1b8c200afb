"""The commands that run TensorFlow in their own process: `train`, `import` and `finetune`.

The app starts them as child processes (jobs/queue.py) and reads their progress as JSON lines
(jobs/protocol.py); from a shell they print a progress bar.
"""

import dataclasses
import json
import os
import shlex
import signal
import sys
import threading
from pathlib import Path

from mnist_core.jobs import protocol
from mnist_core.training.checkpoint import claim_checkpoint, write_checkpoint
from mnist_core.config import config_from_args  # the inverse of protocol.config_args
from mnist_core.data import load_arrays, load_mnist
from mnist_core.training.nondigits import load_handwritten
from mnist_core.keras_runs.importing import import_keras, load_keras_model
from mnist_core.keras_runs.saving import recover_abandoned, save_trained
from mnist_core.runs.store import (StoreError, check_new_name, checkpoint_epochs, find_run, remove_stale_temporaries,
                                   store_dir)
from mnist_core.progress import BATCH, STOPPED


def _bar(fraction: float, width: int = 24) -> str:
    filled = round(fraction * width)
    return "#" * filled + "-" * (width - filled)


def _print_progress(progress) -> None:
    logs, batches = progress.logs, progress.batches_per_epoch
    if progress.kind == BATCH:
        if progress.batch % max(1, batches // 50) and progress.batch != batches:
            return
        sys.stderr.write(f"\repoch {progress.epoch}/{progress.epochs} [{_bar(progress.batch / batches)}] "
                         f"{progress.batch}/{batches} loss {logs.get('loss', 0):.4f} "
                         f"acc {logs.get('accuracy', 0):.4f}")
    else:
        validation = (f" val_loss {logs['val_loss']:.4f} val_acc {logs.get('val_accuracy', 0):.4f}"
                      if "val_loss" in logs else "")  # a fine-tune has none
        sys.stderr.write(f"\repoch {progress.epoch}/{progress.epochs} [{_bar(1)}] {progress.elapsed:6.1f}s "
                         f"loss {logs.get('loss', 0):.4f} acc {logs.get('accuracy', 0):.4f}{validation}\n")
    sys.stderr.flush()


def _emit(message: protocol.Message) -> bool:
    """Print one protocol line for the app; False (and no more output) once the app is gone."""
    try:
        print(protocol.encode(message), flush=True)
        return True
    except OSError:  # stdout closed under us: keep going (the run must still be saved), silently
        sys.stdout = open(os.devnull, "w")
        return False


def _json_progress(stop: threading.Event):
    """Progress as protocol lines on stdout, for the app that started this process; a stop line
    on stdin, or its end, sets `stop` (the run then stops after this batch and is saved)."""
    def watch_stdin():
        protocol.wait_for_stop(sys.stdin)
        stop.set()

    def report(progress) -> None:
        if not _emit(progress):
            stop.set()

    threading.Thread(target=watch_stdin, name="stop-on-stdin", daemon=True).start()
    return protocol.throttled(report)


def _limit(args) -> None:
    """Lower this process's priority and cap TensorFlow's threads, as the flags ask."""
    from mnist_core.training.train import limit_threads

    if args.nice and hasattr(os, "nice"):
        os.nice(args.nice)
    if args.threads:
        limit_threads(args.threads)


def _stop_on_signals() -> threading.Event:
    """An event Ctrl-C or SIGTERM (a container stopping) sets: the work stops after this batch and saves."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def cmd_train(args) -> int:
    from mnist_core.training.train import train

    stop = _stop_on_signals()
    store = Path(args.store) if args.store else store_dir()
    check_new_name(args.name, store)
    config = config_from_args(args)
    _limit(args)
    remove_stale_temporaries(store)
    recover_abandoned(store)
    checkpoint = claim_checkpoint(args.name, store)
    command = protocol.reproduce_command(config, args.name, args.data, args.nondigits)
    owner = dict(owner=args.owner, temporary=args.temporary)
    recorded = dict(command=command, data=str(Path(args.data).resolve()) if args.data else None, **owner)
    json_mode = args.progress == "json"

    def keep_epoch(so_far) -> None:
        try:
            write_checkpoint(checkpoint.path, so_far, **recorded)
        except Exception as exc:  # a full disk must not end the training; its last save may still succeed
            sys.stderr.write(f"\nwarning: epoch {so_far.epochs_done} could not be checkpointed: {exc}\n")

    try:
        data = load_mnist(args.data, validation_size=config.validation_size, seed=config.seed)
        handwritten = load_handwritten(args.nondigits) if args.nondigits else None
        result = train(config, data, handwritten_nondigits=handwritten, on_progress=_json_progress(stop) if json_mode else _print_progress, stop=stop,
                       checkpoint=keep_epoch)
        if json_mode:
            _emit(protocol.Saving(result.ended))
        elif result.ended == STOPPED:
            sys.stderr.write("\nstopped: saving the partial run\n")
        saved, accuracy = save_trained(result, data, args.name, store, handwritten, command=command, **owner)
    except BaseException as exc:
        if getattr(exc, "kept", None) or not (epochs := checkpoint_epochs(checkpoint.path)):
            checkpoint.remove()
        else:  # this process's end releases the checkpoint for the next training's start
            sys.stderr.write(f"\nnote: the next training to start saves this one's last whole epoch ({epochs}) "
                             "as a stopped run\n")
        raise
    checkpoint.remove()
    if json_mode:
        _emit(protocol.Saved(saved.name, accuracy))
    else:
        print(f"saved {saved.name} to {saved.path}: test accuracy {accuracy:.4%}, "
              f"{result.epochs_done} epochs in {result.wall_time:.1f}s ({result.ended})")
    return 0


def limit_memory(megabytes: int) -> None:
    """Cap this process's data memory (RLIMIT_DATA: its heap and private mappings, where weights,
    activations and arrays live) at `megabytes`. An import reads a stranger's network: past the
    cap its allocations fail, and it ends with a message, rather than take the machine's memory
    from the server and everyone drawing on it."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = megabytes * 2**20 if hard == resource.RLIM_INFINITY else min(megabytes * 2**20, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def cmd_import(args) -> int:
    limit_memory(args.memory_limit)
    _limit(args)
    try:
        saved, accuracy = import_keras(Path(args.file), args.name, Path(args.store) if args.store else None,
                                       args.data, owner=args.owner, temporary=args.temporary)
    except Exception as exc:  # NumPy's MemoryError, TensorFlow's ResourceExhaustedError...
        if not isinstance(exc, MemoryError) and "ResourceExhausted" not in type(exc).__name__:
            raise
        raise StoreError(f"{Path(args.file).name}: importing it takes more than the {args.memory_limit:,} MB an "
                         f"import may use (rule: an import's memory)") from exc
    if args.json:
        print(protocol.encode(protocol.Saved(saved.name, accuracy)), flush=True)
    else:
        print(f"imported {args.file} as {saved.name}: test accuracy {accuracy:.4%}")
    return 0


def cmd_finetune(args) -> int:
    """Teach a copy of a run the digits in --examples (finetune.teach) and save it as the run --name,
    its card naming its parent."""
    from mnist_core.personal import read_examples
    from mnist_core.reading.detector import read_detector
    from mnist_core.keras_runs.detector_fit import COPY_HELD_OUT, COPY_OTHERS, fit_detector, held_out_split, rethreshold
    from mnist_core.training.finetune import teach
    from mnist_core.keras_runs.saving import save_model, test_set_views, training_card

    stop = _stop_on_signals()
    store = Path(args.store) if args.store else store_dir()
    check_new_name(args.name, store)
    parent_run = find_run(args.model, store)
    personal = read_examples(args.examples)
    _limit(args)
    json_mode = args.progress == "json"
    mnist, _ = load_arrays(args.data)  # replay draws on all of MNIST's training digits: nothing is validated
    teaching = teach(parent_run, load_keras_model(parent_run), personal, mnist, seed=args.seed, stop=stop,
                     on_progress=_json_progress(stop) if json_mode else _print_progress)
    if json_mode:
        _emit(protocol.Saving(teaching.result.ended))
    summary, figures = teaching.summary(), teaching.figures
    seed = ["--seed", str(args.seed)] if args.seed else []
    command = shlex.join(["python", "-m", "mnist_core", "finetune", "--model", parent_run.name, "--examples",
                          Path(args.examples).name, "--name", args.name, *seed])
    personal_figures = {k: summary[k] for k in ("taught", "held_out", "counts", "personal_before", "personal_after",
                                                "mnist_before")}
    card = training_card(teaching.result, args.name, figures.mnist_after, command=command, owner=args.owner,
                         temporary=args.temporary, three_widths=teaching.three_widths, parent=parent_run.name,
                         personal=personal_figures)
    model, x_train = teaching.result.model, mnist["x_train"]
    parent_detector = read_detector(parent_run.path, f"run {parent_run.name!r}")
    if parent_detector is not None:
        detector, detector_figures = rethreshold(parent_detector, model, x_train[-COPY_HELD_OUT:], args.seed,
                                                 COPY_OTHERS)
    else:
        detector, detector_figures = fit_detector(model, *held_out_split(x_train), args.seed)
    card = dataclasses.replace(card, detector=detector_figures)
    try:
        parent_map = parent_run.digit_map()  # the copy's test digits are placed on it: seconds, not a new t-SNE
    except StoreError:
        parent_map = None
    views = test_set_views(mnist["x_test"], mnist["y_test"], figures.test_probabilities, teaching.test_features,
                           parent_map)
    saved = save_model(teaching.result.model, card, *views, store, detector)
    if json_mode:
        _emit(protocol.Saved(saved.name, figures.mnist_after))
    elif args.json:
        print(json.dumps(dict(name=saved.name, **summary)))
    else:
        held = (f"your {len(teaching.held_out)} held-out digits {figures.personal_before:.1%} → "
                f"{figures.personal_after:.1%}" if len(teaching.held_out)
                else "no digits held out (teach two or more of a digit to measure it)")
        print(f"saved {saved.name}, {parent_run.name} taught {len(teaching.taught)} digits in "
              f"{teaching.result.wall_time:.1f} s ({teaching.result.ended}): {held}; MNIST test "
              f"{figures.mnist_before:.2%} → {figures.mnist_after:.2%}")
    return 0
