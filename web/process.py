"""Process and host figures for the liveness endpoint."""

from __future__ import annotations

import resource
import time

import psutil

_PROCESS = psutil.Process()
_STARTED = time.time()
_PROCESS.cpu_percent(None)  # prime the counter: the first reading is always 0
psutil.cpu_percent(None)


def peak_rss_bytes(pid: int | str = "self") -> int:
    """High-water mark of a process's resident memory (this one by default).

    /proc's VmHWM belongs to this process image; ``ru_maxrss`` survives ``exec`` on Linux
    and would report a parent's peak in a freshly started child.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 if pid == "self" else 0


def _children_memory() -> tuple[int, int]:
    """Resident memory now and at its peak, summed over the engine processes."""
    rss = peak = 0
    for child in _PROCESS.children(recursive=True):
        try:
            rss += child.memory_info().rss
        except psutil.Error:  # gone meanwhile
            continue
        peak += peak_rss_bytes(child.pid)
    return rss, peak


def process_stats() -> dict:
    """CPU and memory of this process (and, in ``total_*``, its engine processes), the
    host's, and the process uptime."""
    rss = _PROCESS.memory_info().rss
    peak = peak_rss_bytes()
    children_rss, children_peak = _children_memory()
    return {
        "timestamp": int(time.time()),
        "cpu_usage": {
            "process_percent": round(_PROCESS.cpu_percent(None), 1),
            "host_percent": round(psutil.cpu_percent(None), 1),
        },
        "memory_usage": {
            "rss_bytes": rss,
            "rss_mb": round(rss / 2**20, 1),
            "peak_rss_bytes": peak,
            "total_rss_bytes": rss + children_rss,
            "total_peak_rss_bytes": peak + children_peak,
            "host_percent": round(psutil.virtual_memory().percent, 1),
        },
        "uptime": round(time.time() - _STARTED, 1),
    }
