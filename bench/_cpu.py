"""CPU time (user + sys) of our processes, apart from the sandbox server's, read from /proc.

Ours: this process, every live descendant of it (gunicorn web workers, Celery workers and their pools,
forked readers) and every child already reaped (the kernel adds them to the parent's cutime/cstime),
except the process trees given as not ours (the sandbox server, which stands for WeChat). Sample before
the work and after it, while the servers still run; the difference is our CPU for that work.
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(ppid, own cpu seconds, reaped children's cpu seconds) of a live process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    ppid, utime, stime, cutime, cstime = int(fields[1]), *(int(f) for f in fields[11:15])
    return ppid, (utime + stime) / TICK, (cutime + cstime) / TICK


def parent_pid(pid: int) -> int | None:
    stat = _stat(pid)
    return stat[0] if stat else None


CORES = os.cpu_count() or 1


def busy_percent(busy_seconds: float, wall_seconds: float) -> float:
    """How much of all the machine's cores ``busy_seconds`` (of ``machine_busy_seconds``) took over ``wall_seconds``."""
    return 100 * busy_seconds / (CORES * wall_seconds)


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy since boot (user, nice, system, interrupts, steal): every
    process, PostgreSQL and Redis included, and the kernel's own work (the loopback network)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


def _all_stats() -> dict[int, tuple[int, float, float]]:
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                stats[int(entry.name)] = stat
    return stats


def _tree_seconds(stats, children, root: int, skip: set[int]) -> float:
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in skip or pid not in stats:
            continue
        _, own, reaped = stats[pid]
        total += own + reaped
        todo.extend(children.get(pid, ()))
    return total


class CpuMeter:
    """Ours = this process's tree without the ``not_ours`` trees. ``parts`` names subtrees of ours (e.g. the web
    server's pid) to report apart; the rest of ours is reported as "bench". The ``not_ours`` trees are measured too,
    for the record (``theirs``)."""

    def __init__(self, *, not_ours: list[int] | None = None, parts: dict[str, list[int]] | None = None, root: int | None = None):
        """``root``: measure that process tree instead of ours (the sandbox server's, the database's, to show their share)."""
        self.root = root
        self.not_ours = set(not_ours or ())
        self.parts = parts or {}
        self.began: dict[str, float] = {}

    def sample_parts(self) -> dict[str, float]:
        stats = _all_stats()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        result = {"ours": _tree_seconds(stats, children, self.root or os.getpid(), self.not_ours)}
        for name, pids in self.parts.items():
            result[name] = sum(_tree_seconds(stats, children, pid, self.not_ours) for pid in pids)
        result["bench"] = result["ours"] - sum(result[name] for name in self.parts)
        result["theirs"] = sum(_tree_seconds(stats, children, pid, set()) for pid in self.not_ours)
        result["machine"] = machine_busy_seconds()
        return result

    def sample(self) -> float:
        return self.sample_parts()["ours"]

    def start(self) -> None:
        self.began = self.sample_parts()

    def seconds(self) -> float:
        """CPU seconds of our processes since start()."""
        return self.sample() - self.began["ours"]

    def breakdown(self) -> dict[str, float]:
        """CPU seconds since start(): "ours", each named part, "bench" (the rest of ours), "theirs" and "machine" (every
        core's busy time, whoever spent it)."""
        now = self.sample_parts()
        return {name: now[name] - self.began.get(name, 0.0) for name in now}
