"""What a command tells the terminal: the progress of its steps, and its errors."""

from __future__ import annotations

import sys
import time


class Progress:
    """Reports the steps of a command: a bar redrawn in place on a terminal, plain lines otherwise."""

    def __init__(self, total: int, stream=None):
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.started = time.monotonic()

    def step(self, label: str) -> None:
        """Announce the next step."""
        elapsed = time.monotonic() - self.started
        if self.tty:
            width = 24
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label:<60.60} {elapsed:6.1f}s")
        else:
            self.stream.write(f"[{self.done + 1}/{self.total}] {label} (t+{elapsed:.1f}s)\n")
        self.stream.flush()
        self.done += 1

    def finish(self) -> None:
        """End the bar's line."""
        if self.tty:
            self.stream.write("\r" + " " * 110 + "\r")
            self.stream.flush()


def fail(message: str, code: int = 1) -> int:
    """Print ``error: message`` on stderr; return ``code`` (the command's exit code)."""
    print(f"error: {message}", file=sys.stderr)
    return code
