"""A classroom on one small server: 40 people drawing at once, the server pinned to one core.

    python -m bench.measure.server.classroom [--sessions 40] [--seconds 120] [--cores 0] [--no-train] [--profile FILE]

The app server is started with its CPU affinity set to `--cores` (as `taskset` does), so it and
everything it starts (the training process inherits the affinity, at its lower priority) share
one core, as on a small Streamlit Community Cloud instance. A training of the Train page's first
preset runs throughout, started from a Chromium tab. The sessions are bench/measure/server/load.py's
websocket clients, each stroke rerunning the canvas's fragment as a browser's does (`--reruns`).
Prints strokes answered, errors, p50/p95 stroke → answer, the server's CPU per stroke and its
peak memory, against the goals: 0 errors, p95 ≤ 1 s, server ≤ 400 MB.
"""

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from pathlib import Path

import psutil

from bench.harness.server.browser import streamlit_server
from bench.harness.server.drawing_sessions import p95, print_errors_and_profile, run, stroke_figures
from bench.harness.server.memory import peak_rss
from bench.harness.server.profile import sampling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--cores", type=int, nargs="+", default=[0], help="the CPUs the server may use")
    parser.add_argument("--no-train", dest="train", action="store_false")
    parser.add_argument("--reruns", choices=("fragment", "page"), default="fragment")
    parser.add_argument("--pace", type=float, default=0.5, help="a stroke takes a person this to 2x this, s")
    parser.add_argument("--profile", type=Path, help="py-spy's samples of the server go to this file")
    args = parser.parse_args()
    args.clients = "ws"
    with streamlit_server(Path(tempfile.mkdtemp())) as (url, process):
        os.sched_setaffinity(process.pid, set(args.cores))  # before it starts any training
        with peak_rss(process) as peaks, (sampling(process.pid, args.profile) if args.profile
                                          else contextlib.nullcontext()):
            latencies, errors, cpu, _ = asyncio.run(run(url, psutil.Process(process.pid), args))
    met = not errors and p95(latencies) <= 1000 and peaks["server"] <= 400
    print(f"{args.sessions} sessions for {args.seconds:.0f} s, server on CPU {sorted(args.cores)}"
          f"{' beside a training' if args.train else ''}: {stroke_figures(latencies, errors, cpu)}, "
          f"server peak {peaks['server']:.0f} MB, training process peak {peaks['children']:.0f} MB "
          f"({'goals met' if met else 'goals missed'}: 0 errors, p95 ≤ 1 s, server ≤ 400 MB)")
    print_errors_and_profile(errors, args.profile)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
