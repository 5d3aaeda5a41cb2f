"""The page script, part 4: the board previews.

The OLED's picture (/api/oled.png, 128x64) is fetched every OLED_MS while
the page is visible and swapped in only once loaded, so it never flickers;
CSS scales it up pixel for pixel. The LED strip (/api/leds, "#rrggbb" per
LED) is fetched after each reading, when the daemon has just written it.
A 404 means this node has no preview (real hardware): the panel says so
and the page stops asking.
"""

BOARD_JS = r"""
// ---- board previews: OLED and LED strip -------------------------------------
const OLED_MS = 3000, HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;
const board = {oledBusy: false, oledGone: false, ledsBusy: false, ledsGone: false};

async function refreshOled() {
  if (board.oledBusy || board.oledGone || document.hidden) return;
  board.oledBusy = true;
  const note = $("#oled-note");
  try {
    const res = await fetch("/api/oled.png", {cache: "no-store"});
    if (res.status === 404) {
      board.oledGone = true;
      note.textContent = "No OLED preview on this node.";
      return;
    }
    if (!res.ok) throw new Error("HTTP " + res.status);
    const url = URL.createObjectURL(await res.blob());
    const next = new Image(128, 64);
    next.alt = "OLED display";
    next.src = url;
    try {
      await next.decode();
    } catch (err) {
      URL.revokeObjectURL(url);
      throw new Error("not a picture");
    }
    const frame = $("#oled"), shown = frame.querySelector("img");
    if (shown) URL.revokeObjectURL(shown.src);
    frame.replaceChildren(next);
    note.textContent = "";
  } catch (err) {
    note.textContent = `OLED: ${err.message}`;
  } finally {
    board.oledBusy = false;
  }
}

async function refreshLeds() {
  if (board.ledsBusy || board.ledsGone) return;
  board.ledsBusy = true;
  const note = $("#leds-note");
  try {
    const res = await fetch("/api/leds", {cache: "no-store"});
    if (res.status === 404) {
      board.ledsGone = true;
      note.textContent = "No LED preview on this node.";
      return;
    }
    if (!res.ok) throw new Error("HTTP " + res.status);
    const colours = await res.json();
    if (!Array.isArray(colours)) throw new Error("not a list of colours");
    const strip = $("#leds");
    while (strip.children.length < colours.length) strip.append(document.createElement("i"));
    while (strip.children.length > colours.length) strip.lastElementChild.remove();
    colours.forEach((c, i) => {
      const ok = typeof c === "string" && HEX_COLOUR.test(c), dot = strip.children[i];
      const colour = ok ? c.toLowerCase() : "";
      dot.style.backgroundColor = colour;
      dot.style.color = colour;
      dot.classList.toggle("off", !ok || colour === "#000000");
      dot.dataset.colour = colour;
      dot.title = `LED ${i}: ${ok ? colour : "?"}`;
    });
    $("#leds-count").textContent = `${colours.length} LEDs`;
    note.textContent = "";
  } catch (err) {
    note.textContent = `LEDs: ${err.message}`;
  } finally {
    board.ledsBusy = false;
  }
}
"""
