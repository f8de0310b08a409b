"""What the command line shows: results on stdout, everything else on stderr.

The progress bar (tqdm: bytes, rate, ETA) is drawn only when stderr is a terminal and not
turned off; tqdm is imported only then, so a script pays nothing for it. Retry notes are
written above the bar, never through it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from presign_client.progress import ProgressCallback


class Reporter:
    def __init__(
        self,
        *,
        json_output: bool,
        progress: bool,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.json_output = json_output
        self.show_bar = progress and _is_terminal(self.stderr)
        self._bar: Any = None

    @contextlib.contextmanager
    def bar(self, label: str, total: int | None) -> Iterator[ProgressCallback | None]:
        """A callback for ``on_progress`` that draws the bar (None when there is no bar)."""
        if not self.show_bar:
            yield None
            return
        from tqdm import tqdm

        bar = tqdm(
            total=total or None,
            desc=label if len(label) <= 32 else label[:29] + "...",
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=self.stderr,
            # Follow the window's width, unless the terminal reports none (0 columns: a bare
            # pseudo-terminal), where tqdm would draw nothing; then $COLUMNS, or 80.
            dynamic_ncols=_width(self.stderr) > 0,
            ncols=None if _width(self.stderr) > 0 else shutil.get_terminal_size().columns,
            mininterval=0.1,
            miniters=1,  # draw on any update (tqdm would otherwise learn to skip some)
            leave=True,
        )

        def update(sent: int, size: int) -> None:
            if size > 0 and bar.total != size:
                bar.total = size
            if sent > bar.n:
                bar.update(sent - bar.n)

        self._bar = bar
        try:
            yield update
        finally:
            self._bar = None
            bar.close()

    def note(self, text: str) -> None:
        """A line about the work (a retry, a renewal): stderr, above the bar if there is one."""
        line = f"presign: {text}"
        if self._bar is not None:
            self._bar.write(line, file=self.stderr)
        else:
            print(line, file=self.stderr, flush=True)

    def result(self, data: Any, text: str) -> None:
        """The command's result: one JSON document with ``--json``, else ``text``."""
        if self.json_output:
            self.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        elif text:
            self.stdout.write(text + "\n")
        self.stdout.flush()

    def error(self, message: str, *, interrupted: bool = False) -> None:
        prefix = "presign: " if interrupted else "presign: error: "
        print(prefix + message, file=self.stderr, flush=True)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 0
