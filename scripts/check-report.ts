// `npm run check:report -- runs/<run>/report.html [--screenshot FILE]`: opens the report in
// headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM) as a person would see it and
// checks that the page logs no console errors or exceptions and that every plot rendered
// (an SVG with a visible size and drawn data marks); writes a screenshot of the top of the
// page. Drives Chromium over the DevTools protocol with Node's own WebSocket: no dependency.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export interface PlotCheck {
  id: string;
  width: number;
  height: number;
  /** Data marks drawn (paths, lines, rects inside Vega's role-mark groups). */
  marks: number;
}

export interface ReportCheck {
  ok: boolean;
  title: string;
  plots: PlotCheck[];
  /** Console errors, uncaught exceptions and browser log errors. */
  errors: string[];
  /** Why the check failed, one line each. */
  problems: string[];
  screenshot: string | undefined;
}

/** Debian's chromium, or $CHROMIUM; undefined when neither exists. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env["CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((p): p is string => p !== undefined && p !== "" && existsSync(p));
}

/** Flags for a root user in a container, with nothing reaching the network. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--remote-debugging-port=0",
];

const WIDTH = 1200;
const HEIGHT = 1500;

/** What the page reports about its plots, evaluated in the page. */
const PLOTS_JS = `JSON.stringify([...document.querySelectorAll("figure")].map((f) => {
  const svg = f.querySelector("svg");
  const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
  const marks = svg ? svg.querySelectorAll('g[class*="role-mark"] path[d]:not([d=""]), g[class*="role-mark"] line, g[class*="role-mark"] rect').length : 0;
  return { id: f.id, width: box.width, height: box.height, marks };
}))`;

interface Cdp {
  send(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  on(method: string, fn: (params: Record<string, unknown>) => void): void;
  close(): void;
}

async function connect(url: string, sessionOf: () => string | undefined): Promise<Cdp> {
  const ws = new WebSocket(url);
  await new Promise<void>((ok, fail) => {
    ws.onopen = () => ok();
    ws.onerror = () => fail(new Error(`cannot connect to ${url}`));
  });
  let id = 0;
  const waiting = new Map<number, { ok: (v: Record<string, unknown>) => void; fail: (e: Error) => void }>();
  const listeners = new Map<string, ((p: Record<string, unknown>) => void)[]>();
  ws.onmessage = (ev) => {
    const msg = JSON.parse(String(ev.data)) as {
      id?: number;
      method?: string;
      params?: Record<string, unknown>;
      result?: Record<string, unknown>;
      error?: { message: string };
    };
    if (msg.id !== undefined) {
      const w = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error) w?.fail(new Error(msg.error.message));
      else w?.ok(msg.result ?? {});
    } else if (msg.method !== undefined)
      for (const fn of listeners.get(msg.method) ?? []) fn(msg.params ?? {});
  };
  return {
    send(method, params = {}) {
      const n = ++id;
      const sessionId = method.startsWith("Target.") ? undefined : sessionOf();
      ws.send(JSON.stringify({ id: n, method, params, ...(sessionId ? { sessionId } : {}) }));
      return new Promise((ok, fail) => waiting.set(n, { ok, fail }));
    },
    on(method, fn) {
      listeners.set(method, [...(listeners.get(method) ?? []), fn]);
    },
    close: () => ws.close(),
  };
}

/** Starts Chromium and returns its DevTools WebSocket URL (printed on stderr). */
function launch(chromium: string, profile: string): Promise<{ url: string; kill: () => void }> {
  const child = spawn(chromium, [...FLAGS, `--user-data-dir=${profile}`, "about:blank"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((ok, fail) => {
    let err = "";
    const timer = setTimeout(() => fail(new Error(`chromium did not start: ${err.slice(-500)}`)), 30_000);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      err += s;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        ok({ url: m[1]!, kill: () => child.kill("SIGKILL") });
      }
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
  });
}

async function inspect(
  cdp: Cdp,
  file: string,
  errors: string[],
): Promise<{ title: string; plots: PlotCheck[]; png: string }> {
  cdp.on("Runtime.consoleAPICalled", (p) => {
    if (p["type"] === "error" || p["type"] === "assert")
      errors.push(
        `console.${p["type"]}: ${JSON.stringify((p["args"] as { value?: unknown }[]).map((a) => a.value))}`,
      );
  });
  cdp.on("Runtime.exceptionThrown", (p) =>
    errors.push(`exception: ${JSON.stringify(p["exceptionDetails"])}`),
  );
  cdp.on("Log.entryAdded", (p) => {
    const e = p["entry"] as { level: string; text: string; url?: string };
    if (e.level === "error") errors.push(`log: ${e.text}${e.url ? ` (${e.url})` : ""}`);
  });
  await cdp.send("Runtime.enable");
  await cdp.send("Log.enable");
  await cdp.send("Page.enable");
  await cdp.send("Emulation.setDeviceMetricsOverride", {
    width: WIDTH,
    height: HEIGHT,
    deviceScaleFactor: 1,
    mobile: false,
  });
  const loaded = new Promise<void>((ok) => cdp.on("Page.loadEventFired", () => ok()));
  await cdp.send("Page.navigate", { url: pathToFileURL(file).href });
  await loaded;
  const value = async (expression: string) =>
    (
      (await cdp.send("Runtime.evaluate", { expression, returnByValue: true }))["result"] as {
        value: unknown;
      }
    ).value;
  const title = String(await value("document.title"));
  const plots = JSON.parse(String(await value(PLOTS_JS))) as PlotCheck[];
  const shot = await cdp.send("Page.captureScreenshot", {
    format: "png",
    clip: { x: 0, y: 0, width: WIDTH, height: HEIGHT, scale: 1 },
  });
  return { title, plots, png: String(shot["data"]) };
}

export async function checkReport(
  report: string,
  o: { screenshot?: string; chromium?: string } = {},
): Promise<ReportCheck> {
  const file = resolve(report);
  const chromium = o.chromium ?? chromiumPath();
  if (chromium === undefined)
    throw new Error("no Chromium found (install Debian's chromium or set CHROMIUM)");
  if (!existsSync(file)) throw new Error(`${file}: no such report`);
  const profile = mkdtempSync(join(tmpdir(), "check-report-"));
  const browser = await launch(chromium, profile);
  const errors: string[] = [];
  try {
    let session: string | undefined;
    const cdp = await connect(browser.url, () => session);
    try {
      const { targetId } = (await cdp.send("Target.createTarget", { url: "about:blank" })) as {
        targetId: string;
      };
      session = (
        (await cdp.send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string }
      ).sessionId;
      const { title, plots, png } = await withTimeout(inspect(cdp, file, errors), 60_000);
      const screenshot = o.screenshot ?? join(profile, "top.png");
      writeFileSync(screenshot, Buffer.from(png, "base64"));
      const problems = [
        ...errors,
        ...(plots.length === 0 ? ["the page has no plots"] : []),
        ...plots.flatMap((p) =>
          p.width < 100 || p.height < 50
            ? [`${p.id}: the SVG is ${p.width}×${p.height} px`]
            : p.marks === 0
              ? [`${p.id}: no data marks were drawn`]
              : [],
        ),
      ];
      return { ok: problems.length === 0, title, plots, errors, problems, screenshot: o.screenshot };
    } finally {
      cdp.close();
    }
  } finally {
    browser.kill();
    rmSync(profile, { recursive: true, force: true });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`the page did not load within ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        ok(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        fail(e);
      },
    );
  });
}

async function main(argv: string[]): Promise<number> {
  const report = argv.find((a) => !a.startsWith("--"));
  const at = argv.indexOf("--screenshot");
  if (report === undefined) {
    process.stderr.write("usage: npm run check:report -- REPORT.html [--screenshot FILE.png]\n");
    return 2;
  }
  const screenshot = at >= 0 ? argv[at + 1] : report.replace(/\.html$/, "-top.png");
  const r = await checkReport(report, { screenshot });
  for (const p of r.plots)
    process.stdout.write(`${p.id}: ${Math.round(p.width)}×${Math.round(p.height)} px, ${p.marks} marks\n`);
  for (const p of r.problems) process.stdout.write(`PROBLEM ${p}\n`);
  process.stdout.write(
    `${JSON.stringify({ check: "report", ok: r.ok, plots: r.plots.length, errors: r.errors.length, screenshot: r.screenshot })}\n`,
  );
  return r.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href)
  process.exitCode = await main(process.argv.slice(2));
