"""Run every bench and rewrite the table of latest figures in bench/README.md (``make bench``).

Each bench's last line is its figure; the table between the markers of the README is replaced with them. The whole
output of each bench (where the time and the CPU went) is kept in ``var/bench/<n>-<script>.txt``.
Extra arguments are passed to every bench as given in BENCHES (sizes for a quick check: ``--quick``).
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"

# (script, arguments, arguments at quick sizes)
BENCHES = [
    ("callback.py", ["--threads", "8"], ["--threads", "8", "--requests", "600", "--rounds", "3"]),
    ("callback.py", ["--gunicorn", "--rate", "200"], ["--gunicorn", "--rate", "50", "--seconds", "2", "--workers", "2"]),
    ("callback.py", ["--gunicorn", "--rate", "500"], ["--gunicorn", "--rate", "100", "--seconds", "2", "--workers", "2"]),
    ("token_race.py", [], []),
    ("follower_sync.py", ["--n", "1000000", "--latency-ms", "20"], ["--n", "5000"]),
    # The floor of one call on this machine: our client and the barest stand-in served like the sandbox.
    ("http_floor.py", ["--calls", "20000", "--latency-ms", "20"], ["--calls", "500"]),
    ("template_push.py", ["--messages", "20000", "--latency-ms", "20", "--workers", "2"], ["--messages", "500"]),
    # The same push with the job-finish events held back until every message is sent: sending measured alone.
    (
        "template_push.py",
        ["--messages", "20000", "--latency-ms", "20", "--workers", "2", "--job-finish-delay", "60"],
        ["--messages", "500", "--job-finish-delay", "5"],
    ),
    # Sending alone with one worker instead of two: how the rate follows the number of workers.
    (
        "template_push.py",
        ["--messages", "20000", "--latency-ms", "20", "--workers", "1", "--job-finish-delay", "60"],
        ["--messages", "500", "--workers", "1", "--job-finish-delay", "5"],
    ),
    # One batch of 4 calls in flight per worker, where a worker and not the machine bounds the rate: one, then two.
    (
        "template_push.py",
        ["--messages", "4000", "--workers", "1", "--pool", "1", "--threads", "4", "--job-finish-delay", "30"],
        ["--messages", "200", "--workers", "1", "--pool", "1", "--threads", "4", "--job-finish-delay", "5"],
    ),
    (
        "template_push.py",
        ["--messages", "4000", "--workers", "2", "--pool", "1", "--threads", "4", "--job-finish-delay", "30"],
        ["--messages", "200", "--workers", "2", "--pool", "1", "--threads", "4", "--job-finish-delay", "5"],
    ),
]


def core_speed_us() -> float:
    """Microseconds one core takes for ``sum(range(10000))``, best of 5 (as ``python -m timeit`` prints it). The
    machine's cores are shared and their speed changes by tens of percent within an hour: each figure is printed with
    the speed measured just before its bench."""
    timer = timeit.Timer("sum(range(10000))")
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    rows, failed = [], 0
    logs = HERE.parent / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    for n, (script, args, quick_args) in enumerate(BENCHES, 1):
        command = [sys.executable, str(HERE / script), *(quick_args if quick else args)]
        speed = core_speed_us()
        print("$", " ".join(command[1:]), f"(core: {speed:.0f} µs)", flush=True)
        result = subprocess.run(command, cwd=HERE, capture_output=True, text=True, env=os.environ)
        (logs / f"{n}-{script.removesuffix('.py')}.txt").write_text(result.stdout + result.stderr)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        last = lines[-1] if result.returncode == 0 and lines else f"failed (exit {result.returncode})"
        failed += result.returncode != 0
        print(last, flush=True)
        rows.append(f"| `{' '.join(command[1:]).replace(str(HERE) + '/', '')}` | {speed:.0f} µs | {last} |")
    database = os.environ.get("DATABASE_URL", "sqlite").split(":", 1)[0]
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join(
        [
            f"Run {when} on {os.cpu_count()} cores, database {database}{', quick sizes' if quick else ''}.",
            "",
            "Core: microseconds for `sum(range(10000))` on one core just before the bench (lower is faster).",
            "",
            "| command | core | last line |",
            "|---|---|---|",
            *rows,
        ]
    )
    text = README.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
