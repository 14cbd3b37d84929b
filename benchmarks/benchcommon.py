"""Shared helpers of the benchmark scripts: machine description, medians, Markdown rows.

Imported by the scripts beside it (``python benchmarks/bench_x.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's answer elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    """Total RAM in GiB (0 where unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return 0.0


def load_average() -> str:
    """The 1/5/15-minute load averages, to say how busy the machine was."""
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_line() -> str:
    """One line naming the machine, the date and the load: printed above every table."""
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"machine: {os.cpu_count()} cores, {ram_gib():.0f} GiB RAM, CPU {cpu_model()}; "
        f"python {platform.python_version()}; "
        f"date {date}; load average {load_average()}"
    )


def command_line() -> str:
    """The exact command that ran this script."""
    return "python " + " ".join(sys.argv)


def timed_runs(work: Callable[[], Any], runs: int) -> list[float]:
    """Seconds of each of ``runs`` calls of ``work``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)


def _status_kib(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB: VmHWM on Linux (ru_maxrss elsewhere).

    VmHWM belongs to this process's own address space; ru_maxrss would include a forking parent's peak.
    """
    hwm = _status_kib("VmHWM")
    return (hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def rss_mib() -> float:
    """Current resident memory of this process in MiB (0 where /proc is missing)."""
    return (_status_kib("VmRSS") or 0.0) / 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to /proc/self/clear_refs); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="utf-8") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table of ``rows`` under ``header``."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def print_report(title: str, header: list[str], rows: list[list[str]]) -> None:
    """Print the machine, the command and the Markdown table of one benchmark run."""
    print(f"\n### {title}\n")
    print(machine_line())
    print(f"command: `{command_line()}`\n")
    print(markdown_table(header, rows))
