"""A text file's lines decoded a block of bytes at a time, held in a window that slides.

A reader asks the window for as many lines as its next chunk needs (`LineWindow.load`) and
lets go of the lines it has made records of (`LineWindow.drop`): a big export is never held
whole, as bytes, text or lines. Each block is whole lines, decoded as `decode_lines`
decodes a file: every line in the first encoding that decodes it, so a file's lines are
the same decoded in blocks or whole ("\\n" is one byte in every encoding whose lines
align; a file in another encoding is decoded whole, as one block).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from ..errors import SourceError
from .lines import DecodedLines, aligned, decode_lines

BLOCK_BYTES = 1 << 24  # 16 MiB of a file read and decoded at a time


def decoded_blocks(path: Path, encodings: tuple[str, ...], label: str) -> Iterator[DecodedLines]:
    """The file's lines, a block of whole lines (about BLOCK_BYTES) at a time; a file in an
    encoding whose lines do not align comes as one block."""
    size = BLOCK_BYTES if aligned(encodings) else -1
    pending = bytearray()  # the bytes after the last "\n" read so far
    first = True
    try:
        with path.open("rb") as handle:
            while True:
                data = handle.read(size)
                if not data:
                    break
                pending += data
                cut = pending.rfind(b"\n") + 1 if size > 0 else len(pending)
                if cut == 0:
                    continue  # a line longer than a block: read on
                block = bytes(pending[:cut])
                del pending[:cut]
                yield decode_lines(block, encodings, start_of_file=first)
                first = False
    except OSError as exc:
        raise SourceError(f"{label}: cannot read ({exc.strerror})") from None
    if pending or first:  # the last line without its "\n"; an empty file
        yield decode_lines(bytes(pending), encodings, start_of_file=first)


class LineWindow:
    """The lines of a file from its line `first` (0-based) on, as far as they have been
    decoded; `held.lines[i]` is line `first + i`, `held.errors` keyed the same way."""

    def __init__(self, blocks: Iterator[DecodedLines]) -> None:
        self.held = DecodedLines([], {}, "mixed")
        self.first = 0
        self.done = False
        self._blocks = blocks

    @classmethod
    def whole(cls, decoded: DecodedLines) -> LineWindow:
        """A window over lines decoded already (a file decoded whole)."""
        return cls(iter([decoded]))

    def load(self, count: int = sys.maxsize) -> int:
        """Decode blocks until `count` lines are held (or the file ends); the lines held."""
        lines = self.held.lines
        while len(lines) < count and not self.done:
            block = next(self._blocks, None)
            if block is None:
                self.done = True
                break
            base = len(lines)
            self.held.errors.update({base + k: v for k, v in block.errors.items()})
            lines.extend(block.lines)
        return len(lines)

    def drop(self, count: int) -> None:
        """Let go of the first `count` lines held (made records of)."""
        del self.held.lines[:count]
        self.first += count
        if self.held.errors:
            self.held.errors = {k - count: v for k, v in self.held.errors.items() if k >= count}
