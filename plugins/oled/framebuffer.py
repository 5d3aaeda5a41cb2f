"""An in-memory copy of the SSD1306's 128x64 display RAM.

The controller's RAM is 8 *pages* of 128 bytes; byte ``page * 128 + x`` is
the column of 8 pixels at x whose top row is ``page * 8`` (bit 0 on top).
Keeping the picture in exactly that layout means a page can be sent to the
chip as it is, and comparing two frames page by page tells which parts of
the screen need sending at all.
"""

from font import CELL_HEIGHT, CELL_WIDTH, glyph

WIDTH = 128
HEIGHT = 64
PAGES = HEIGHT // CELL_HEIGHT  # 8


class FrameBuffer:
    """A 1024-byte picture in SSD1306 page layout."""

    def __init__(self) -> None:
        self.data = bytearray(WIDTH * PAGES)

    def clear(self) -> None:
        self.data[:] = bytes(len(self.data))

    def page(self, index: int) -> bytes:
        """The 128 bytes of one page, left to right."""
        start = index * WIDTH
        return bytes(self.data[start:start + WIDTH])

    def draw_text(self, x: int, page: int, text: str) -> None:
        """Writes text starting at pixel column x on a page (text rows are
        page-aligned, so a character is a plain copy of its column bytes).
        Characters past the right edge are cut off."""
        base = page * WIDTH
        for ch in text:
            if x + CELL_WIDTH > WIDTH:
                break
            columns = glyph(ch) + b"\x00"  # the cell's spacing column
            self.data[base + x:base + x + CELL_WIDTH] = columns
            x += CELL_WIDTH

    def pixel(self, x: int, y: int) -> bool:
        """Whether the pixel at (x, y) is lit (previews and tests)."""
        return bool(self.data[(y // 8) * WIDTH + x] >> (y % 8) & 1)


def changed_span(old: bytes, new: bytes) -> tuple[int, int] | None:
    """The first and last column where two pages differ, or None if equal."""
    if old == new:
        return None
    diff = [x for x in range(len(new)) if old[x] != new[x]]
    return diff[0], diff[-1]
