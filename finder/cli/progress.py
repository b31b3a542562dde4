"""Progress for the refresh on a terminal (the CLI's, not the runner's: the runner only calls
`progress(name)` and ticks): one bar per source, counting its requests."""

from __future__ import annotations

import sys
from collections.abc import Callable


class ProgressBars:
    """Progress for run_refresh on a terminal: one tqdm bar per source, counting its requests."""

    def __init__(self):
        from tqdm import tqdm

        self._tqdm = tqdm
        self._bar = None

    def __call__(self, name: str) -> Callable[[], None]:
        self.close()
        bar = self._tqdm(desc=f"{name:<14}", unit="req", leave=False, file=sys.stderr)
        self._bar = bar
        return lambda: bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_bars(enabled: bool | None = None) -> ProgressBars | None:
    """Progress bars when standard error is a terminal; None (quiet) under cron, CI or a pipe."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    return ProgressBars() if enabled else None
