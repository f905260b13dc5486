"""The stream's stop: the first SIGINT/SIGTERM asks for a clean stop, a second one stops at once."""

from __future__ import annotations

import logging
import signal
from typing import Optional

_LOG = logging.getLogger("newsbeam.stream")


class StopSignal:
    """The first SIGINT/SIGTERM asks for a clean stop after the batch in flight; a second one stops at once."""

    def __init__(self):
        self.requested: Optional[str] = None
        self._previous = {}

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame):
        name = signal.Signals(signum).name
        if self.requested is not None:
            raise KeyboardInterrupt(f"second {name}")
        self.requested = name
        _LOG.warning("%s: stopping after the micro-batch in flight", name)
