"""A small SSD1306 (128x64 OLED) driver speaking plain I2C writes.

Every I2C write to the controller starts with a control byte: 0x00 says
"the rest are commands", 0x40 "the rest is display RAM data". The driver
only needs a function that writes bytes to the chip, so it runs unchanged
on the host's ``i2c.transfer_bytes`` or any other bus.
"""

from typing import Callable

from framebuffer import PAGES, WIDTH, FrameBuffer, changed_span

COMMANDS = 0x00     # control byte: command stream
DATA = 0x40         # control byte: display RAM data stream
DATA_CHUNK = 32     # data bytes per write, the size small I2C buffers take

SET_COLUMN_WINDOW = 0x21  # start, end: where data goes, left to right
SET_PAGE_WINDOW = 0x22    # start, end
DISPLAY_OFF = 0xAE
DISPLAY_ON = 0xAF

# The usual power-up sequence for the common 128x64 module (datasheet
# application note, same order as Adafruit's and luma.oled's drivers).
INIT_SEQUENCE = bytes([
    DISPLAY_OFF,
    0xD5, 0x80,   # display clock: default divide ratio and oscillator
    0xA8, 0x3F,   # multiplex ratio: 64 rows
    0xD3, 0x00,   # display offset: none
    0x40,         # start line 0
    0x8D, 0x14,   # charge pump on (the module has no external VCC)
    0x20, 0x00,   # horizontal addressing: data wraps column -> page
    0xA1,         # segment remap: column 127 is SEG0 (not mirrored)
    0xC8,         # COM scan descending (not upside down)
    0xDA, 0x12,   # COM pins: alternative configuration, for 64 rows
    0x81, 0xCF,   # contrast
    0xD9, 0xF1,   # pre-charge period (internal charge pump)
    0xDB, 0x40,   # VCOMH deselect level
    0xA4,         # resume: show the RAM content
    0xA6,         # normal, not inverted
    DISPLAY_ON,
])

Write = Callable[[bytes], None]


class Ssd1306:
    """Keeps what the chip shows, to send only what changes."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._shown: FrameBuffer | None = None  # None: chip RAM unknown

    def init(self) -> None:
        """Powers the panel up; the next show() redraws everything, since
        RAM content after power-up (or a fault) is unknown."""
        self._shown = None
        self._command(INIT_SEQUENCE)

    def show(self, frame: FrameBuffer) -> int:
        """Sends the parts of frame that differ from what the chip shows;
        returns how many pages were written."""
        written = 0
        try:
            for page in range(PAGES):
                new = frame.page(page)
                old = self._shown.page(page) if self._shown is not None else None
                span = (0, WIDTH - 1) if old is None else changed_span(old, new)
                if span is not None:
                    self._write_page(page, span[0], new[span[0]:span[1] + 1])
                    written += 1
        except Exception:
            self._shown = None  # half a frame went out: redraw it all next time
            raise
        shown = FrameBuffer()
        shown.data[:] = frame.data
        self._shown = shown
        return written

    def _command(self, command_bytes: bytes) -> None:
        self._write(bytes([COMMANDS]) + command_bytes)

    def _write_page(self, page: int, column: int, data: bytes) -> None:
        self._command(bytes([SET_COLUMN_WINDOW, column, column + len(data) - 1,
                             SET_PAGE_WINDOW, page, page]))
        for start in range(0, len(data), DATA_CHUNK):
            self._write(bytes([DATA]) + data[start:start + DATA_CHUNK])
