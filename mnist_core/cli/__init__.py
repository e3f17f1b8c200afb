"""`python -m mnist_core`: train, import, finetune, evaluate, compare, predict, explain and list from the command line."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mnist_core.config import PRESETS, ConfigError, TrainConfig
from mnist_core.data import DatasetError, load_test_set
from mnist_core.evaluate import compare_probabilities, confusion_sentences, evaluate_probabilities, plural, suspicious_labels
from mnist_core.reading.detector import DetectorError
from mnist_core.reading.explain import explain_file, explanation_text
from mnist_core.reading.number import read_number
from mnist_core.reading.predict import load_classifier
from mnist_core.reading.preprocess import IMAGE_SUFFIXES, DrawingError, read_image
from mnist_core.runs.store import StoreError, find_run, list_runs
from mnist_core.hyperparams import add_flags
from mnist_core.personal import PersonalSetError
from mnist_core.cli.training import cmd_finetune, cmd_import, cmd_train

IMPORT_MEMORY_MB = 2000  # importing the notebook bench's networks peaks at 1.4-1.6 GB of data memory


def cmd_evaluate(args) -> int:
    x_test, y_test = load_test_set(args.data)
    classifier = load_classifier(args.model)
    probabilities = np.concatenate([classifier.probabilities(x_test[i:i + 1000] / 255.0)
                                    for i in range(0, len(x_test), 1000)])
    result = evaluate_probabilities(y_test, probabilities)
    suspicious = suspicious_labels(y_test, probabilities)
    scores = [classifier.digit_scores(x_test[i:i + 1000] / 255.0) for i in range(0, len(x_test), 1000)]
    kept = None if classifier.detector is None else float((np.concatenate(scores) >= classifier.detector.threshold).mean())
    if args.json:
        print(json.dumps(dict(model=classifier.name, **result.to_dict(), digits_kept=kept, suspicious_labels=suspicious)))
        return 0
    print(f"model {classifier.name}: accuracy {result.accuracy:.4%} ({result.errors} errors in {len(y_test)})")
    print("digit  precision  recall     f1  support")
    for row in result.to_dict()["per_class"]:
        print(f"{row['digit']:5d}  {row['precision']:9.4f}  {row['recall']:6.4f}  {row['f1']:.4f}  {row['support']:7d}")
    print("top confusions:")
    for sentence in confusion_sentences(result):
        print(f"  {sentence}")
    if kept is not None:
        print(f"test digits its detector keeps as digits: {kept:.2%}")
    print(f"labels the model disputes (it gives them under 5%): {len(suspicious)}")
    for row in suspicious[:10]:
        print(f"  #{row['index']}: labelled {row['given']}, read as {row['predicted']} ({row['confidence']:.1%})")
    return 0


def cmd_compare(args) -> int:
    runs = [find_run(name) for name in (args.a, args.b)]
    galleries = [run.gallery() for run in runs]
    if not np.array_equal(galleries[0].labels, galleries[1].labels):
        raise StoreError(f"{args.a!r} and {args.b!r} were evaluated on different test sets")
    result = compare_probabilities(galleries[0].labels, galleries[0].probabilities, galleries[1].probabilities)
    if args.json:
        side = lambda run, e: dict(name=run.name, accuracy=e.accuracy, confusion_matrix=e.confusion.tolist())
        print(json.dumps(dict(a=side(runs[0], result.a), b=side(runs[1], result.b),
                              difference=result.difference.tolist(), fixed=result.fixed.tolist(),
                              broke=result.broke.tolist())))
        return 0
    print(f"{args.a}: {result.a.accuracy:.2%}   {args.b}: {result.b.accuracy:.2%}")
    print(f"{args.b} fixed {plural(len(result.fixed), 'test image')} that {args.a} got wrong, "
          f"and broke {len(result.broke):,}")
    changed = [(int(d), t, p) for (t, p), d in np.ndenumerate(result.difference) if d and t != p]
    for change, t, p in sorted(changed, key=lambda c: -abs(c[0]))[:8]:
        print(f"  {t} read as {p}: {change:+d}")
    return 0


def _image_files(paths: list[str]) -> list[Path]:
    """The files named, and the images in the folders named; FileNotFoundError for a folder with none."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise FileNotFoundError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {path}")
            files += found
        else:
            files.append(path)
    return files


def _digit_result(prediction) -> dict:
    return {"digit": prediction.digit, "probabilities": [round(float(p), 6) for p in prediction.probabilities],
            "is_digit": prediction.is_digit,
            "digit_score": None if prediction.digit_score is None else round(prediction.digit_score, 4)}


def _number_result(classifier, image) -> dict:
    reading = read_number(classifier, image)
    return {"number": reading.number, "digits": [{**_digit_result(d.prediction), "box": list(d.box)}
                                                 for d in reading.digits]}


def _number_text(result: dict) -> str:
    return result["number"] + " (" + ", ".join(
        f"{d['digit'] if d['is_digit'] else '? not a digit, closest ' + str(d['digit'])} {max(d['probabilities']):.1%}"
        for d in result["digits"]) + ")"


def cmd_predict(args) -> int:
    classifier = load_classifier(args.model)
    results = []
    for path in _image_files(args.paths):
        try:
            image = read_image(path)
            results.append({"file": str(path), **(_number_result(classifier, image) if args.number
                                                   else _digit_result(classifier.predict(image)))})
        except DrawingError as exc:
            results.append({"file": str(path), "error": str(exc)})
    if args.json:
        print(json.dumps(results))
    for result in results if not args.json else []:
        if "error" in result:
            print(f"{result['file']}: error: {result['error']}")
        elif args.number:
            print(f"{result['file']}: {_number_text(result)}")
        else:
            verdict = "" if result["is_digit"] else ", but it does not look like a digit"
            print(f"{result['file']}: {result['digit']} ({max(result['probabilities']):.1%}){verdict}")
    return 1 if any("error" in r for r in results) or not results else 0


def cmd_explain(args) -> int:
    classifier = load_classifier(args.model)
    results = [explain_file(classifier, path) for path in _image_files(args.paths)]
    if args.json:
        print(json.dumps(results))
    for result in results if not args.json else []:
        print(explanation_text(result))
    return 1 if any("error" in r for r in results) or not results else 0


def cmd_list(args) -> int:
    print(f"{'name':24} {'preset':9} {'accuracy':>9} {'epochs':>6} {'time':>7}  ended")
    for run in list_runs():
        card = run.card
        if run.problem:
            print(f"{run.name:24} unusable: {run.problem}")
            continue
        print(f"{run.name:24} {card.preset:9} {card.test_accuracy:9.2%} {card.epochs_done:6d} "
              f"{card.wall_time_seconds:6.0f}s  {card.ended}{' (bundled)' if run.bundled else ''}")
    return 0


def bounded(low: int, high: int):
    """An argparse type: a whole number from `low` to `high`, else a clear usage error."""
    def whole_number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value
    return whole_number


def _common_flags(command) -> None:
    """The flags `train`, `import` and `finetune` share: where the data and the store are, how the process runs,
    and who the run belongs to (what the app records for the session that started it)."""
    command.add_argument("--data", help="path to an mnist.npz (default: $MNIST_PATH, then download)")
    command.add_argument("--store", help="model store folder (default: $MNIST_STORE_DIR, then runs/)")
    command.add_argument("--threads", type=bounded(0, 256), default=0, metavar="N",
                         help="cap TensorFlow's CPU threads (0 = all cores)")
    command.add_argument("--nice", type=bounded(0, 19), default=0, metavar="N",
                         help="lower this process's CPU priority by this much (0-19)")
    command.add_argument("--owner", help="owner id recorded on the run's card (the app's session)")
    command.add_argument("--temporary", action="store_true",
                         help="mark the run as a visitor's, which a public deployment's quota may delete")


def _add_command(commands, name: str, func, description: str, *arguments: tuple) -> None:
    """A subcommand running `func`, with arguments given as (flags, options) pairs."""
    command = commands.add_parser(name, help=description)
    for flags, options in arguments:
        command.add_argument(*flags, **options)
    command.set_defaults(func=func)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m mnist_core", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a preset and save it to the model store",
                                description="Train a preset and save it to the model store. A hyperparameter "
                                            "not given keeps the preset's value.")
    train.add_argument("--preset", required=True, choices=list(PRESETS))
    train.add_argument("--name", required=True, help="run name: letters, digits, '.', '_', '-'")
    add_flags(train, TrainConfig)  # every hyperparameter, as config.TrainConfig declares it
    train.add_argument("--nondigits", metavar="PATH",
                       help="handwritten letters and symbols (UNIPEN .json.gz): half the non-digit images come "
                            "from its training writers")
    _common_flags(train)
    train.add_argument("--progress", choices=("bar", "json"), default="bar",
                       help="json: JSON lines on stdout, and a 'stop' line or the end of stdin stops and saves")
    train.set_defaults(func=cmd_train)

    model, as_json = (("--model",), dict(help="saved run name (default: the bundled model)")), (("--json",),
                                                                                            dict(action="store_true"))
    _add_command(commands, "evaluate", cmd_evaluate, "run a saved model on the test set",
                 model, (("--data",), dict(help="path to an mnist.npz")), as_json)
    for name, func, description in (
            ("predict", cmd_predict, "read the digit in image files or folders of images"),
            ("explain", cmd_explain, "show which strokes made the network read each image as it did")):
        _add_command(commands, name, func, description, (("paths",), dict(nargs="+", metavar="PATH")), model, as_json)
    commands.choices["predict"].add_argument("--number", action="store_true",
                         help="read each picture as a number written left to right: the number and each digit")
    _add_command(commands, "compare", cmd_compare, "compare two saved runs on the test set (from what they store)",
                 (("a",), dict(metavar="A")), (("b",), dict(metavar="B")), as_json)

    import_ = commands.add_parser("import", help="check a .keras or .h5 network, evaluate it on the test set, save "
                                                 "it as a run")
    import_.add_argument("file", metavar="FILE", help='a network saved with model.save("mine.keras") (or .h5)')
    import_.add_argument("--memory-limit", type=bounded(100, 1_000_000), default=IMPORT_MEMORY_MB, metavar="MB",
                         help=f"the import's data memory at most (default {IMPORT_MEMORY_MB})")
    import_.add_argument("--name", required=True, help="run name: letters, digits, '.', '_', '-'")
    import_.add_argument("--json", action="store_true", help="print {name, test_accuracy} as JSON")
    _common_flags(import_)
    import_.set_defaults(func=cmd_import)

    finetune = commands.add_parser("finetune", help="teach a copy of a saved run your own digits; save it as a run")
    finetune.add_argument("--model", help="the run to start from (default: the bundled model)")
    finetune.add_argument("--examples", required=True, metavar="PATH",
                          help="a folder with subfolders 0 to 9 of digit images, or an .npz with x (N x 28 x 28) "
                               "and y (N digits); half of each digit is taught, half held out to measure it")
    finetune.add_argument("--name", required=True, help="the new run's name: letters, digits, '.', '_', '-'")
    finetune.add_argument("--seed", type=int, default=0)
    finetune.add_argument("--json", action="store_true",
                          help="print the run's name, its parent and the before/after figures as JSON")
    _common_flags(finetune)
    finetune.add_argument("--progress", choices=("bar", "json"), default="bar",
                          help="json: JSON lines on stdout (for the app), and a 'stop' line stops it")
    finetune.set_defaults(func=cmd_finetune)

    _add_command(commands, "list", cmd_list, "list saved models")
    return main


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, DatasetError, DetectorError, StoreError, PersonalSetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # OSError: a file missing, unreadable or named too long
        return 2
