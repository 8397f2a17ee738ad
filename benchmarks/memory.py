"""Peak memory of this process, for the benchmark scripts.

Read from VmHWM in /proc/self/status, not from getrusage's ru_maxrss: Linux carries
ru_maxrss across fork and exec, so a child started by a big parent would report the
parent's peak as its own.
"""

from __future__ import annotations

from pathlib import Path


def peak_gib() -> float:
    """The highest resident set size of this process so far, in GiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    raise RuntimeError("no VmHWM line in /proc/self/status")
