"""Process and host figures for the liveness endpoint."""

from __future__ import annotations

import resource
import time

import psutil

_PROCESS = psutil.Process()
_STARTED = time.time()
_PROCESS.cpu_percent(None)  # prime the counter: the first reading is always 0
psutil.cpu_percent(None)


def peak_rss_bytes() -> int:
    """High-water mark of this process's resident memory.

    /proc's VmHWM belongs to this process image; ``ru_maxrss`` survives ``exec`` on Linux
    and would report a parent's peak in a freshly started child.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def process_stats() -> dict:
    """CPU and memory of this process and the host, and the process uptime."""
    rss = _PROCESS.memory_info().rss
    return {
        "timestamp": int(time.time()),
        "cpu_usage": {
            "process_percent": round(_PROCESS.cpu_percent(None), 1),
            "host_percent": round(psutil.cpu_percent(None), 1),
        },
        "memory_usage": {
            "rss_bytes": rss,
            "rss_mb": round(rss / 2**20, 1),
            "peak_rss_bytes": peak_rss_bytes(),
            "host_percent": round(psutil.virtual_memory().percent, 1),
        },
        "uptime": round(time.time() - _STARTED, 1),
    }
