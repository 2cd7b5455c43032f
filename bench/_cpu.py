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


class CpuMeter:
    def __init__(self, *, not_ours: list[int] | None = None, root: int | None = None):
        """Our processes by default; ``root``: that process tree instead (the sandbox server's, to show its share)."""
        self.not_ours = set(not_ours or ())
        self.root = root
        self.began = 0.0

    def sample(self) -> float:
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                stat = _stat(int(entry.name))
                if stat is not None:
                    stats[int(entry.name)] = stat
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        total, todo = 0.0, [self.root or os.getpid()]
        while todo:
            pid = todo.pop()
            if pid in self.not_ours or pid not in stats:
                continue
            _, own, reaped = stats[pid]
            total += own + reaped
            todo.extend(children.get(pid, ()))
        return total

    def start(self) -> None:
        self.began = self.sample()

    def seconds(self) -> float:
        """CPU seconds of our processes since start()."""
        return self.sample() - self.began
