"""Runs the OLED's screen code natively (no board, no sandbox).

    python3 plugins/oled/render_check.py READINGS.json        # ASCII preview
    python3 plugins/oled/render_check.py --hex READINGS.json  # the 1024 bytes
    python3 plugins/oled/render_check.py --regen tests/plugins/oled_expected.hex

--regen rewrites an expected-frames file: after each ``readings <json>``
line, the 8 pages (one line of 128 hex bytes each) this code draws for
those readings. The plugin's test then checks that the sandboxed plugin,
driving the simulated chip over I2C, leaves exactly that picture in the
chip's RAM. Regenerate only on purpose (after changing the layout or font).
"""

import sys

from framebuffer import HEIGHT, PAGES, WIDTH, FrameBuffer
from screen import parse_readings, render, screen_lines

READINGS_PREFIX = "readings "


def frame_for(readings_json: str) -> FrameBuffer:
    return render(screen_lines(parse_readings(readings_json)))


def hex_pages(frame: FrameBuffer) -> list[str]:
    return [frame.page(p).hex() for p in range(PAGES)]


def ascii_art(frame: FrameBuffer) -> str:
    rows = ("".join("#" if frame.pixel(x, y) else "." for x in range(WIDTH))
            for y in range(HEIGHT))
    return "\n".join(rows)


def regen(path: str) -> None:
    """Keeps comments and readings lines, replaces every frame."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out: list[str] = []
    for line in lines:
        if line.startswith("#") or line.startswith(READINGS_PREFIX):
            out.append(line)
        if line.startswith(READINGS_PREFIX):
            out.extend(hex_pages(frame_for(line[len(READINGS_PREFIX):])))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main(args: list[str]) -> int:
    if len(args) == 2 and args[0] == "--regen":
        regen(args[1])
        return 0
    as_hex = bool(args) and args[0] == "--hex"
    paths = args[1:] if as_hex else args
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(paths[0], encoding="utf-8") as f:
        frame = frame_for(f.read())
    print("\n".join(hex_pages(frame)) if as_hex else ascii_art(frame))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
