#!/usr/bin/env node
// The dashboard in a real browser, against a real daemon on the simulated
// board: `harvester run` with every plugin of plugins/ and a temperature
// ramp, headless Chromium (Debian's) driven by playwright-core (web/'s
// devDependency). It checks the cards show values and follow the ramp live
// over Server-Sent Events, BEEP reaches the log panel, the OLED and LED
// previews render, the history chart draws, the page fits a phone; saves
// <build>/tests/dashboard.png; and SIGTERM stops the daemon with exit 0.
//
// usage: node tests/web/test_browser.mjs path/to/harvester
// Exits 77 (ctest: skipped) when Chromium, playwright-core or uPlot are
// missing. Every wait is a condition with a timeout, never a sleep.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SKIP = 77;
const WAIT_MS = 20000;       // any one condition
const STOP_MS = 20000;       // SIGTERM to exit
const NODE = "browser-test"; // the daemon's node_id
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(SKIP);
}

// ---- what the test needs ----------------------------------------------------
if (!process.argv[2]) {
  console.error("usage: node test_browser.mjs path/to/harvester");
  process.exit(2);
}
const HARVESTER = resolve(process.argv[2]);
if (!existsSync(CHROMIUM))
  skip(`no ${CHROMIUM}: install Debian's chromium (scripts/deps.sh) to run the browser test`);
let chromium;
try {
  ({ chromium } = createRequire(join(ROOT, "web", "package.json"))("playwright-core"));
} catch (err) {
  skip("no web/node_modules/playwright-core: `make web` (cd web && npm install) to run the browser test");
}
if (!existsSync(join(ROOT, "web", "static", "uPlot.iife.min.js")))
  skip("no web/static/uPlot.iife.min.js: `make web` to run the browser test");

// ---- checks -------------------------------------------------------------------
let passed = 0, failed = 0;
function check(name, ok, detail = "") {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL: ${name}${detail ? ": " + detail : ""}`);
  }
}
// A condition that must come true in time; a timeout fails the check (and
// the steps that depend on it are skipped by the caller's return value).
async function waitCheck(name, promise) {
  try {
    await promise;
    check(name, true);
    return true;
  } catch (err) {
    check(name, false, err.message.split("\n")[0]);
    return false;
  }
}

async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function until(what, fn, ms = WAIT_MS) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100)); // a poll interval, not a wait for time to pass
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ""}`);
}

// ---- the daemon -----------------------------------------------------------------
const tmp = mkdtempSync(join(tmpdir(), "hv-browser-"));
const plugins = join(tmp, "plugins");
mkdirSync(plugins);
for (const name of readdirSync(join(ROOT, "plugins"))) {
  const dir = join(ROOT, "plugins", name);
  if (existsSync(join(dir, "plugin.toml")))
    execFileSync(HARVESTER, ["build", dir, "-o", join(plugins, `${name}.wasm`)], { stdio: "pipe" });
}
const port = await freePort();
writeFileSync(join(tmp, "config.toml"), `
[polling]
interval_seconds = 1
[cluster]
node_id = "${NODE}"
[http]
port = ${port}
bind = "127.0.0.1"
[hardware]
backend = "sim"
[daemon]
data_dir = "${join(tmp, "data")}"
[plugins]
dir = "${plugins}"
auto_load = true
permissions = "${join(ROOT, "config", "permissions.toml")}"
[plugins.dht22]
led = 1
[plugins.bme680]
led = 2
`);
// +0.1 °C a second: the DHT22's one decimal changes on every poll.
writeFileSync(join(tmp, "ramp.toml"), `
[environment]
temperature_c = 18.0
[[ramp]]
field = "temperature_c"
from_s = 0
to_s = 120
to = 30.0
`);

const base = `http://127.0.0.1:${port}`;
let daemonLog = "";
const daemon = spawn(HARVESTER, ["run", "--config", join(tmp, "config.toml"),
                                 "--scenario", join(tmp, "ramp.toml")],
                     { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] });
daemon.stdout.on("data", (d) => { daemonLog += d; });
daemon.stderr.on("data", (d) => { daemonLog += d; });
const exited = new Promise((ok) => daemon.on("exit", (code, signal) => ok({ code, signal })));

let browser;
const shotDir = join(dirname(HARVESTER), "tests");
const shot = join(shotDir, "dashboard.png");

async function main() {
  await until("/health", async () => (await fetch(base + "/health")).ok);
  // The page is rendered from the readings: open it once both sensors have one.
  await until("DHT22 and BME680 readings", async () => {
    const readings = await (await fetch(base + "/api/readings")).json();
    return [":dht22", ":bme680"].every((s) => readings.some((r) => r.sensor_id.endsWith(s)));
  });

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(WAIT_MS);
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  let readingFetches = 0;
  page.on("request", (req) => { if (req.url().endsWith("/api/readings")) readingFetches++; });
  await page.goto(base + "/");

  // Cards with values.
  const dht = `[data-sid="${NODE}:dht22"]`, bme = `[data-sid="${NODE}:bme680"]`;
  const number = async (sel) => (await page.textContent(sel)).trim();
  const dhtTemp = await number(`${dht} [data-f="temperature"]`);
  check("DHT22 temperature", /^\d+\.\d$/.test(dhtTemp), dhtTemp);
  check("DHT22 humidity", /^\d+\.\d$/.test(await number(`${dht} [data-f="humidity"]`)));
  for (const f of ["temperature", "humidity", "pressure", "gas-resistance"]) {
    const v = await number(`${bme} [data-f="${f}"]`);
    check(`BME680 ${f}`, /^\d+\.\d$/.test(v), v);
  }

  // Live over the event stream: the badge, then a value that moves, with
  // no /api/readings fetch meanwhile (polling is only the fallback).
  if (await waitCheck("badge says live",
                      page.waitForFunction(() => document.querySelector("#conn").textContent === "live"))) {
    const fetches = readingFetches;
    const before = await number(`${dht} [data-f="temperature"]`);
    await waitCheck("DHT22 temperature changes live", page.waitForFunction(
      ([sel, old]) => document.querySelector(sel).textContent.trim() !== old,
      [`${dht} [data-f="temperature"]`, before]));
    check("no polling while live", readingFetches === fetches, `${readingFetches - fetches} fetches`);
  }

  // BEEP: the daemon logs "buzzer: ..." and the line streams into the log
  // panel, on this node's tab (picked by itself).
  await waitCheck("this node's log tab is picked",
                  page.waitForSelector(`[data-log-node="${NODE}"][aria-selected="true"]`));
  await waitCheck("log panel loads", page.waitForFunction(() => {
    const text = document.querySelector("#log-view").textContent;
    return text !== "Loading\u2026" && text.includes("started");
  }));
  await page.click('button[data-pattern="single"]');
  await waitCheck("BEEP sent", page.waitForFunction(
    () => document.querySelector("#buzzer-status").textContent === "single: sent"));
  await waitCheck("buzzer line in the log panel", page.waitForFunction(
    () => document.querySelector("#log-view").textContent.includes("buzzer:")));
  // Naming a node: this one runs it; a node nobody knows is the daemon's 404, shown.
  await page.selectOption("#buzzer-node", NODE);
  await page.click('button[data-pattern="triple"]');
  await waitCheck("BEEP x3 on this node", page.waitForFunction(
    (node) => document.querySelector("#buzzer-status").textContent === `triple on ${node}: sent`,
    NODE));
  await page.evaluate(() => {
    const o = document.createElement("option");
    o.value = o.textContent = "nobody";
    document.querySelector("#buzzer-node").append(o);
  });
  await page.selectOption("#buzzer-node", "nobody");
  await page.click('button[data-pattern="single"]');
  await waitCheck("an unknown node's error shown", page.waitForFunction(
    () => document.querySelector("#buzzer-status").textContent.startsWith("single on nobody: failed (no node 'nobody'")));
  await page.selectOption("#buzzer-node", "");

  // OLED: a 128x64 picture, scaled pixelated, with something drawn on it,
  // and refreshed (a new <img> replaces the old one).
  if (await waitCheck("OLED picture loads", page.waitForFunction(() => {
    const img = document.querySelector("#oled img");
    return img && img.complete && img.naturalWidth === 128 && img.naturalHeight === 64;
  }))) {
    const oled = await page.evaluate(() => {
      const img = document.querySelector("#oled img"), c = document.createElement("canvas");
      c.width = 128;
      c.height = 64;
      const ctx = c.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, 128, 64).data;
      let lit = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] > 128) lit++;
      window.__firstOled = img;
      return { lit, rendering: getComputedStyle(img).imageRendering, width: img.clientWidth };
    });
    check("OLED shows something", oled.lit > 20, `${oled.lit} lit pixels`);
    check("OLED scaled pixelated", oled.rendering === "pixelated" && oled.width >= 256,
          JSON.stringify(oled));
    await waitCheck("OLED refreshes", page.waitForFunction(() => {
      const img = document.querySelector("#oled img");
      return img && img !== window.__firstOled && img.naturalWidth === 128;
    }));
  }

  // LED strip: 11 dots, each painted its "#rrggbb", some lit.
  if (await waitCheck("11 LED dots", page.waitForFunction(
    () => document.querySelectorAll("#leds i").length === 11))) {
    const leds = await page.evaluate(() => Array.from(document.querySelectorAll("#leds i"), (el) => {
      const hex = el.dataset.colour, bg = getComputedStyle(el).backgroundColor;
      const rgb = /^#[0-9a-f]{6}$/.test(hex)
        ? `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(", ")})` : "?";
      return { hex, ok: bg === rgb };
    }));
    check("LED dots painted their colours", leds.every((l) => l.ok), JSON.stringify(leds));
    check("some LED lit", leds.some((l) => l.hex !== "#000000"), JSON.stringify(leds));
  }

  // History: uPlot (from /static) draws the raw hour, follows new readings,
  // and draws min/max/mean buckets for 24 h.
  await page.locator("#history").scrollIntoViewIfNeeded();
  const points = () => page.evaluate(() => {
    const m = /^(\d+) points?/.exec(document.querySelector("#chart-note").textContent);
    return m ? Number(m[1]) : 0;
  });
  if (await waitCheck("history chart draws", page.waitForFunction(
    () => document.querySelector("#chart canvas") && /^\d+ points/.test(
      document.querySelector("#chart-note").textContent)))) {
    const n = await points();
    await waitCheck("history follows readings", page.waitForFunction(
      (old) => Number((/^(\d+) points?/.exec(document.querySelector("#chart-note").textContent)
                      || [0, 0])[1]) > old, n));
    const picked = await page.evaluate(() => {
      const s = document.querySelector("#series");
      return s.selectedOptions[0] && s.selectedOptions[0].parentElement.label + " " + s.value;
    });
    check("series picker lists the history", (await page.$$("#series option")).length >= 4, picked);
    await page.click('button[data-step="60000"]');
    await waitCheck("24 h shows min/max/mean buckets", page.waitForFunction(
      () => /^\d+ buckets? /.test(document.querySelector("#chart-note").textContent) &&
            document.querySelector(".u-legend") &&
            document.querySelector(".u-legend").textContent.includes("mean")));
  }
  await page.screenshot({ path: shot, fullPage: true });

  // Without EventSource, on a page rendered before any reading: it polls
  // /api/readings, and the new sensors' cards appear without a reload.
  const empty = JSON.parse(execFileSync(HARVESTER, ["invoke", join(plugins, "dashboard.wasm"),
                                                    "dashboard-logic.render", '["[]"]']).toString());
  const old = await browser.newPage();
  old.on("pageerror", (err) => pageErrors.push(err.message));
  await old.addInitScript(() => {
    delete window.EventSource;
    document.addEventListener("DOMContentLoaded", () => {
      window.__cardsAtLoad = document.querySelectorAll("[data-sid]").length;
    });
  });
  await old.route(base + "/", (route) => route.fulfill({ contentType: "text/html", body: empty }),
                  { times: 1 });
  await old.goto(base + "/");
  check("the page had no cards at first", await old.evaluate(() => window.__cardsAtLoad === 0));
  await waitCheck("no EventSource: badge says polling", old.waitForFunction(
    () => document.querySelector("#conn").textContent === "polling"));
  if (await waitCheck("new cards appear without a reload", old.waitForSelector(dht))) {
    const before = await old.textContent(`${dht} [data-f="temperature"]`);
    await waitCheck("polling keeps values moving", old.waitForFunction(
      ([sel, was]) => document.querySelector(sel).textContent !== was,
      [`${dht} [data-f="temperature"]`, before]));
  }
  await old.close();

  // The event stream cut off: "reconnecting" (values keep coming by
  // polling), then back to "live" by itself once the stream is reachable.
  const cut = await browser.newPage();
  cut.on("pageerror", (err) => pageErrors.push(err.message));
  await cut.route("**/api/events", (route) => route.abort());
  await cut.goto(base + "/");
  if (await waitCheck("stream down: badge says reconnecting", cut.waitForFunction(
    () => document.querySelector("#conn").textContent === "reconnecting"))) {
    await cut.unroute("**/api/events");
    await waitCheck("stream back: badge says live again", cut.waitForFunction(
      () => document.querySelector("#conn").textContent === "live"));
  }
  await cut.close();

  // A phone: nothing wider than the screen.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  phone.on("pageerror", (err) => pageErrors.push(err.message));
  await phone.goto(base + "/");
  await waitCheck("phone: chart drawn", phone.waitForSelector("#chart canvas", { timeout: WAIT_MS }));
  const widths = await phone.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  check("phone: no sideways scrolling", widths[0] <= widths[1], JSON.stringify(widths));
  await phone.screenshot({ path: join(shotDir, "dashboard-phone.png"), fullPage: true });
  await phone.close();

  check("no script errors", pageErrors.length === 0, pageErrors.join("; "));

  // SIGTERM with the page still connected: a clean exit, and the page notices.
  daemon.kill("SIGTERM");
  const end = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok(null), STOP_MS))]);
  check("daemon stops on SIGTERM", end !== null, "still running");
  check("daemon exits 0", end && end.code === 0, JSON.stringify(end));
  await waitCheck("badge leaves live", page.waitForFunction(
    () => document.querySelector("#conn").textContent !== "live"));
}

let crashed = null;
try {
  mkdirSync(shotDir, { recursive: true });
  await main();
} catch (err) {
  crashed = err;
  failed++;
  console.log(`FAIL: ${err.stack || err}`);
} finally {
  if (failed) console.log(`--- daemon log (last 3000 chars) ---\n${daemonLog.slice(-3000)}`);
  if (browser) await browser.close().catch(() => {});
  if (daemon.exitCode === null && daemon.signalCode === null) {
    daemon.kill("SIGKILL");
    await exited;
  }
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`screenshot: ${shot}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
