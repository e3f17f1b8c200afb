"""Many people drawing at once on one app server: N sessions on /draw for a fixed time.

    python -m bench.measure.server.load [--sessions 20] [--seconds 60] [--train] [--clients ws|browser]
                              [--reruns fragment|page] [--profile FILE]

Each session draws strokes one after another, waiting for the answer to each (the page's
"(n strokes)" caption) and then taking the time a person takes to draw the next stroke
(`--pace`, 0.5-1 s). Prints the strokes answered, the errors (time-outs, exception boxes), p50/p95
stroke → answer latency, and the server's CPU time per stroke.

Clients:
- `ws` (default): Streamlit websocket clients that send what the canvas sends on mouse-up (its
  JSON with the drawing's PNG) and read the server's answer. They cost almost no CPU, so the
  2 cores here serve the app, as they would on a server whose users have their own computers.
  Each stroke reruns the Draw page's canvas fragment, as a browser's does (`--reruns fragment`),
  or the whole page (`--reruns page`: more than the server does for real people).
- `browser`: headless Chromium tabs, mouse-up to the answer shown on the page. Here the 20
  browsers share the server's 2 cores, so this measures the machine more than the server.
With --profile, py-spy samples the server while they draw (bench/harness/server/profile.py) and the
functions that took the most of its CPU are printed. With --train, a 50-epoch training of the Train page's first preset, started from a Chromium tab
that then watches it, runs at the same time.
"""

import argparse
import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path

import psutil

from bench.harness.server.browser import streamlit_server
from bench.harness.server.drawing_sessions import print_errors_and_profile, run, stroke_figures
from bench.harness.server.profile import sampling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--clients", choices=("ws", "browser"), default="ws")
    parser.add_argument("--reruns", choices=("fragment", "page"), default="fragment",
                        help="what a websocket client's stroke reruns: the canvas's fragment (as a browser) or the page")
    parser.add_argument("--profile", type=Path, help="py-spy's samples of the server go to this file")
    parser.add_argument("--pace", type=float, default=0.5, help="a stroke takes a person this to 2x this, s")
    args = parser.parse_args()
    with streamlit_server(Path(tempfile.mkdtemp())) as (url, process):
        with sampling(process.pid, args.profile) if args.profile else contextlib.nullcontext():
            latencies, errors, cpu, rss = asyncio.run(run(url, psutil.Process(process.pid), args))
    reruns = f", {args.reruns} reruns" if args.clients == "ws" else ""
    print(f"{args.sessions} {args.clients} sessions{reruns} for {args.seconds:.0f} s"
          f"{' with a training running' if args.train else ''}: {stroke_figures(latencies, errors, cpu)}, "
          f"server RSS {rss:.0f} MB")
    print_errors_and_profile(errors, args.profile)
    sys.exit(1 if errors or not latencies else 0)


if __name__ == "__main__":
    main()
