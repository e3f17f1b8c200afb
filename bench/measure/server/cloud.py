"""The app started as Streamlit Community Cloud starts it, measured against a deployment's goals.

    python -m bench.measure.server.cloud [--seconds 60] [--sessions 20] [--idle-sessions 200] [--reuse-venv]
                                  [--skip-training] [--data PATH]

As on Cloud: a virtual environment made from requirements.txt only (--venv, remade unless
--reuse-venv), `streamlit run streamlit_app.py` from the repository root with that environment's
Python, MNIST_PATH unset, an empty HOME (with an empty KERAS_HOME in it) and an empty model store.
MNIST comes from a loopback HTTP origin serving --data, through MNIST_URL and MNIST_SHA256.
The bench itself (Chromium, websocket clients) runs in the development environment.

1. Cold start: from the process's start to the first prediction shown for a drawing.
2. Server RSS after a browser opened Home, Draw (drew a 7 and read the answer), Train, Explore and
   Models; the server process and its children apart.
3. A `best` training (1 epoch, 20000 images) started on the Train page; it downloads MNIST from
   the origin. Peak RSS of the server plus the training process.
4. bench.measure.server.load's 20 websocket sessions (bench/harness/server/drawing_sessions.py) drawing with a
   training running, while two hostile clients (bench/harness/server/hostile_clients.py) each send an
   81-megapixel canvas payload and a 16-megapixel upload every second: strokes, errors, latency,
   and the server's peak RSS meanwhile.
5. --idle-sessions (200) sessions that each upload a 16-megapixel JPEG on the Draw page and then
   sit idle with their websocket open (bench/harness/server/idle_uploads.py): the server's RSS with all
   of them connected, and its peak meanwhile.
--skip-training leaves out 3 and the training during 4. Exits 1 if a goal is missed.
"""

import argparse
import asyncio
import functools
import hashlib
import http.server
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from bench.harness.server.browser import ROOT, draw_stroke, free_port, launch_chromium, seven_strokes
from bench.harness.server.drawing_sessions import p95, run as drawing_load
from bench.harness.server.hostile_clients import while_attacking
from bench.harness.server.idle_uploads import idle_uploaders
from bench.harness.server.memory import peak_rss, rss
from bench.harness.paths import SHARED_DATA

def cloud_venv(path: Path, reuse: bool) -> Path:
    """The Python of a virtual environment made from requirements.txt alone."""
    python = path / "bin" / "python"
    if reuse and python.exists():
        print(f"virtual environment: reusing {path}")
        return python
    if path.exists() and not (path / "pyvenv.cfg").exists():
        raise SystemExit(f"{path} exists and is not a virtual environment; choose another --venv")
    shutil.rmtree(path, ignore_errors=True)
    log, started = path.with_name(path.name + "-pip.log"), time.perf_counter()
    with open(log, "w") as out:
        try:
            subprocess.run(["python3", "-m", "venv", str(path)], stdout=out, stderr=out, check=True, timeout=300)
            subprocess.run([str(python), "-m", "pip", "install", "-r", "requirements.txt"], cwd=ROOT, stdout=out,
                           stderr=out, check=True, timeout=1800)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise SystemExit(f"could not make {path}: {exc}; see {log}")
    print(f"virtual environment: {path} made from requirements.txt in {time.perf_counter() - started:.0f} s")
    return python


@contextmanager
def data_origin(data: Path):
    """`data` served over HTTP on loopback; yields (its URL, its SHA-256, the paths requested)."""
    requested = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

        def log_message(self, *args):  # quiet: the requests are counted instead
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=data.parent))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sha256 = hashlib.sha256(data.read_bytes()).hexdigest()
        yield f"http://127.0.0.1:{server.server_port}/{data.name}", sha256, requested
    finally:
        server.shutdown()
        server.server_close()


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the app and every process it started (a training saves and ends), then kill what is left."""
    family = []
    with suppress(psutil.NoSuchProcess):
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    for each in family:
        with suppress(psutil.NoSuchProcess):
            each.terminate()
    _, alive = psutil.wait_procs(family, timeout=30)
    for each in alive:
        with suppress(psutil.NoSuchProcess):
            each.kill()
    psutil.wait_procs(alive, timeout=10)
    process.poll()


@contextmanager
def cloud_app(python: Path, env: dict, log: Path, timeout: float = 120):
    """`streamlit run streamlit_app.py` on a free loopback port; yields (URL, process, start time)."""
    port, started = free_port(), time.perf_counter()
    with open(log, "wb") as out:
        process = subprocess.Popen([str(python), "-m", "streamlit", "run", "streamlit_app.py", "--server.port",
                                    str(port), "--server.address", "127.0.0.1"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                if time.perf_counter() - started > timeout or process.poll() is not None:
                    raise RuntimeError(f"streamlit did not start on {url}; see {log}")
                time.sleep(0.1)
        yield url, process, started
    finally:
        stop(process)


def open_page(page, url: str, path: str) -> int:
    """Open a page and let it settle; the number of exception boxes it shows."""
    page.goto(url + path, timeout=60_000)
    page.locator("h1").first.wait_for(timeout=60_000)
    page.wait_for_load_state("networkidle", timeout=60_000)
    page.wait_for_timeout(1500)
    return page.locator("[data-testid='stException']").count()


def draw_seven(page) -> str:
    """Draw a 7 on the Draw page; the digit the page shows."""
    page.locator("canvas.upper-canvas").first.wait_for(timeout=60_000)
    for stroke in seven_strokes():
        draw_stroke(page, stroke)
    digit = page.locator("[data-testid='predicted-digit']")
    digit.wait_for(timeout=60_000)
    return digit.inner_text()


def train_from_page(page, url: str, name: str, timeout_s: float) -> str:
    """Start `best` for 1 epoch on 20000 images on the Train page; what the page says at the end."""
    open_page(page, url, "/train")
    page.get_by_label("Preset").click()
    page.get_by_role("option", name=re.compile("^best")).click()
    page.wait_for_function("() => [...document.querySelectorAll('input')].some(i => i.value.startsWith('best-'))",
                           timeout=30_000)  # the form shows the best preset
    page.get_by_role("spinbutton", name="Epochs", exact=True).fill("1")  # not its Help button
    page.get_by_role("spinbutton", name="Training images (0 = all)", exact=True).fill("20000")
    page.get_by_label("Run name").fill(name)
    page.get_by_role("button", name="Start training").click()
    outcome = page.get_by_text(f"Saved {name}").or_(page.get_by_text("Not started")).or_(
        page.get_by_text("Training failed"))
    outcome.first.wait_for(timeout=timeout_s * 1000)
    return outcome.first.inner_text()


def check(goals: list, what: str, figure: str, met: bool, goal: str) -> None:
    goals.append((what, met))
    print(f"{what}: {figure}   [goal {goal}: {'met' if met else 'MISSED'}]", flush=True)


def measure(python: Path, data: Path, args, work: Path, goals: list) -> None:
    (work / "home" / ".keras").mkdir(parents=True)
    with data_origin(data) as (mnist_url, sha256, requested):
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("MNIST_", "KERAS_", "PYTHON", "TF_"))},
               "HOME": str(work / "home"), "KERAS_HOME": str(work / "home" / ".keras"),
               "MNIST_STORE_DIR": str(work / "store"), "MNIST_URL": mnist_url, "MNIST_SHA256": sha256}
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            with cloud_app(python, env, work / "streamlit.log") as (url, process, started):
                page.goto(url + "/draw", timeout=60_000)
                digit = draw_seven(page)
                cold = time.perf_counter() - started
                check(goals, "cold start (process start → first prediction shown)", f"{cold:.2f} s (read as {digit})",
                      cold <= 5, "≤ 5 s")
                boxes = open_page(page, url, "/")
                open_page(page, url, "/draw")
                draw_seven(page)
                boxes += sum(open_page(page, url, path) for path in ("/train", "/explore", "/models"))
                server, children = rss(process)
                tensorflow = "tensorflow" in Path(f"/proc/{process.pid}/maps").read_text()
                check(goals, "server RSS after Home, Draw (drawn), Train, Explore, Models",
                      f"{server:.0f} MB, children {children:.0f} MB; TensorFlow in the server: "
                      f"{'yes' if tensorflow else 'no'}; exception boxes {boxes}; MNIST requests {len(requested)}",
                      server + children <= 300 and boxes == 0, "≤ 300 MB, no exception box")
                if not args.skip_training:
                    with peak_rss(process) as peaks:
                        begun = time.perf_counter()
                        said = train_from_page(page, url, "cloud-memory", timeout_s=900)
                    check(goals, "peak RSS while `best` trains (1 epoch, 20000 images) from the Train page",
                          f"server {peaks['server']:.0f} MB, training process {peaks['children']:.0f} MB, together "
                          f"{peaks['both']:.0f} MB; {time.perf_counter() - begun:.0f} s; MNIST downloads "
                          f"{requested.count('/' + data.name)}; the page said: {said[:80]!r}",
                          peaks["both"] <= 1536 and said.startswith("Saved"), "≤ 1,536 MB (1.5 GB), saved")
                browser.close()
                load = argparse.Namespace(sessions=args.sessions, seconds=args.seconds, pace=0.5,
                                          train=not args.skip_training, clients="ws", reruns="fragment")
                with peak_rss(process) as peaks, ThreadPoolExecutor(1) as thread:
                    # in a thread of its own: Playwright's sync API keeps an event loop running in this one
                    (latencies, errors, cpu, _), tallies = thread.submit(asyncio.run, while_attacking(
                        url, drawing_load(url, psutil.Process(process.pid), load))).result()
                report_load(goals, args, latencies, errors, cpu, peaks, tallies)
                if args.idle_sessions:
                    idle_phase(goals, args, url, process)


def report_load(goals: list, args, latencies: list, errors: list, cpu: float, peaks: dict, tallies: list) -> None:
    p50 = statistics.median(latencies) if latencies else float("inf")
    training = "" if args.skip_training else " with a training running"
    print(f"{args.sessions} websocket sessions drawing for {args.seconds:.0f} s{training}, two hostile clients:")
    check(goals, "  strokes answered, errors", f"{len(latencies)} strokes, {len(errors)} errors", not errors,
          "0 errors")
    for error in errors[:10]:
        print("    error:", error)
    check(goals, "  stroke → answer latency", f"p50 {p50:.0f} ms, p95 {p95(latencies):.0f} ms; server CPU "
          f"{1000 * cpu / max(1, len(latencies)):.0f} ms a stroke", p95(latencies) <= 1000, "p95 ≤ 1 s")
    check(goals, "  server peak RSS during the hostile phase", f"{peaks['server']:.0f} MB (training process "
          f"{peaks['children']:.0f} MB)", peaks["server"] <= 400, "≤ 400 MB")
    for n, tally in enumerate(tallies, 1):
        print(f"  hostile client {n}: {tally}")
    fine = all(tally.each_refused_or_read() for tally in tallies)
    check(goals, "  hostile payloads", "each refused or read" if fine else "see above", fine,
          "no exception, none unanswered")


def idle_phase(goals: list, args, url: str, process) -> None:
    """--idle-sessions sessions that each uploaded a 16-megapixel JPEG, then sit idle, connected."""
    held = {}

    def while_idle():
        time.sleep(5)  # let the last reruns' garbage go
        held["server"] = rss(process)[0]

    began, before = time.perf_counter(), rss(process)[0]
    with peak_rss(process) as peaks, ThreadPoolExecutor(1) as thread:
        tally = thread.submit(asyncio.run, idle_uploaders(url, args.idle_sessions, while_idle)).result()
    answers = dict(tally.upload)
    fine = answers == {"huge.jpg: read": args.idle_sessions} and not tally.problems
    check(goals, f"{args.idle_sessions} idle sessions that each uploaded a 16-megapixel JPEG",
          f"server {held.get('server', float('nan')):.0f} MB with all connected ({before:.0f} MB before they came), "
          f"peak {peaks['server']:.0f} MB; "
          f"{time.perf_counter() - began:.0f} s to open them; uploads {answers}"
          + (f"; problems: {tally.problems[:3]}" if tally.problems else ""),
          fine and peaks["server"] <= 400, "≤ 400 MB, each upload read")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--idle-sessions", type=int, default=200,
                        help="sessions that upload a 16-megapixel JPEG and sit idle (0: none)")
    parser.add_argument("--venv", type=Path, default=Path("/tmp/cloud-venv"))
    parser.add_argument("--reuse-venv", action="store_true", help="use --venv as it is if it exists")
    parser.add_argument("--skip-training", action="store_true", help="no training: a quick run")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "mnist.npz",
                        help="the mnist.npz the loopback origin serves")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"--data: no file {args.data}")
    python = cloud_venv(args.venv, args.reuse_venv)
    version = subprocess.run([str(python), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    print(f"{version}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    work, goals = Path(tempfile.mkdtemp(prefix="cloud-bench-")), []
    try:
        measure(python, args.data, args, work, goals)
    except Exception:
        log = work / "streamlit.log"
        if log.exists():
            print("the server's log ends with:\n" + log.read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    missed = [what.strip() for what, met in goals if not met]
    print("all goals met" if not missed else f"goals missed: {'; '.join(missed)}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
