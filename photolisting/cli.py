"""What ``manage.py`` commands share: a progress bar for long work on a terminal."""

from __future__ import annotations

import time


def progress_bar(done: int, total: int, label: str, started: float, width: int = 30) -> str:
    """One carriage-returned line: the bar, done/total, time per item, and the current item."""
    filled = int(width * done / total) if total else width
    elapsed = time.monotonic() - started
    rate = f"{elapsed / done:.2f}s each" if done else ""
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {rate} {label[:40]:<40}"
