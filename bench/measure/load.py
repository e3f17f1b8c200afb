"""Many people drawing at once on one app server: N sessions on /draw for a fixed time.

    python -m bench.measure.load [--sessions 20] [--seconds 60] [--train] [--clients ws|browser]

Each session draws strokes one after another, waiting for the answer to each (the page's
"(n strokes)" caption) and then taking the time a person takes to draw the next stroke
(`--pace`, 0.5-1 s). Prints the strokes answered, the errors (time-outs, exception boxes), p50/p95
stroke → answer latency, and the server's CPU time per stroke.

Clients:
- `ws` (default): Streamlit websocket clients that send what the canvas sends on mouse-up (its
  JSON with the drawing's PNG) and read the server's answer. They cost almost no CPU, so the
  2 cores here serve the app, as they would on a server whose users have their own computers.
  Each stroke reruns the whole page (a browser reruns only the Draw page's canvas fragment), so
  the server does at least the work it does for real people.
- `browser`: headless Chromium tabs, mouse-up to the answer shown on the page. Here the 20
  browsers share the server's 2 cores, so this measures the machine more than the server.
With --train, a 50-epoch training of the Train page's first preset, started from a Chromium tab
that then watches it, runs at the same time.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import psutil

from bench.harness.browser import streamlit_server
from bench.harness.drawing_sessions import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--clients", choices=("ws", "browser"), default="ws")
    parser.add_argument("--pace", type=float, default=0.5, help="a stroke takes a person this to 2x this, s")
    args = parser.parse_args()
    with streamlit_server(Path(tempfile.mkdtemp())) as (url, process):
        latencies, errors, cpu, rss = asyncio.run(run(url, psutil.Process(process.pid), args))
    quantiles = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [float("nan")] * 19
    print(f"{args.sessions} {args.clients} sessions for {args.seconds:.0f} s"
          f"{' with a training running' if args.train else ''}: {len(latencies)} strokes answered, "
          f"{len(errors)} errors, p50 {statistics.median(latencies) if latencies else float('nan'):.0f} ms, "
          f"p95 {quantiles[18]:.0f} ms, server CPU {1000 * cpu / max(1, len(latencies)):.0f} ms per stroke, "
          f"server RSS {rss:.0f} MB")
    for error in errors[:10]:
        print("  error:", error)
    sys.exit(1 if errors or not latencies else 0)


if __name__ == "__main__":
    main()
