"""Memory readings for the footer: system memory available and this process's RSS (psutil)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class MemoryReading:
    """One reading: what the system has available, and what this process holds."""

    available_bytes: int
    total_bytes: int
    rss_bytes: int

    @property
    def available_percent(self) -> float:
        return 100.0 * self.available_bytes / self.total_bytes if self.total_bytes else 0.0


MemoryProbe = Callable[[], MemoryReading]

_process = psutil.Process()


def read_memory() -> MemoryReading:
    """The live reading (the default probe; tests and screenshots inject a fixed one)."""
    vm = psutil.virtual_memory()
    return MemoryReading(vm.available, vm.total, _process.memory_info().rss)


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KB': binary units, one decimal, as a footer wants them."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")
