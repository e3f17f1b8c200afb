"""Where a running server's CPU goes: py-spy samples it from outside (no change to the app), and
the samples are summed per function, by the time spent in it and below it (inclusive) and in it
alone (self).

Shared by bench.measure.server.load (`--profile`) and bench.measure.server.classroom.
"""

import collections
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def sampling(pid: int, out: Path, rate: int = 100):
    """py-spy records `pid`'s threads that run (not idle ones) into `out` (collapsed stacks) for as
    long as the block lasts."""
    spy = shutil.which("py-spy")
    assert spy, "py-spy is needed: pip install -r requirements-dev.txt"
    process = subprocess.Popen([spy, "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate),
                                "--nonblocking", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.send_signal(2)  # SIGINT: py-spy writes its file and exits
        process.wait(60)


def frame_name(frame: str) -> str:
    """'render (streamlit/elements/x.py:12)' → 'render (streamlit/elements/x.py)': one function, all its lines."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0].rstrip(')')})" if where else name


def top_functions(collapsed: Path, count: int = 15) -> tuple[int, list, list]:
    """The samples in all, and the `count` functions with the most samples inclusive and self."""
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in collapsed.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        frames = [frame_name(f) for f in stack.split(";")]  # outermost first
        total += int(samples)
        for name in dict.fromkeys(frames):  # once per sample, however deep it recurses
            inclusive[name] += int(samples)
        if frames:
            own[frames[-1]] += int(samples)
    return total, inclusive.most_common(count), own.most_common(count)


def print_profile(collapsed: Path, count: int = 15) -> None:
    total, inclusive, own = top_functions(collapsed, count)
    print(f"profile: {total} samples of running threads ({collapsed})")
    for title, rows in (("inclusive", inclusive), ("self", own)):
        print(f"  top {title}:")
        for name, samples in rows:
            print(f"    {100 * samples / max(1, total):5.1f}%  {name[:150]}")
