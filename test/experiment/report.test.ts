import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DataScaleError } from "../../src/core/errors.ts";
import { colourTable } from "../../src/experiment/plots.ts";
import { loadResults, renderReport, renderSvg, writeReport } from "../../src/experiment/report.ts";
import { ExperimentResults } from "../../src/experiment/results.ts";
import { curve, DOMAINS, EVIL, finding, synthetic } from "./fixtures.ts";

test("every plot renders to a non-empty SVG that names the runs it draws", async () => {
  const r = synthetic();
  const { svgs } = await renderReport(r);
  const expected = [
    "ladder-gold",
    "ladder-proxy",
    "ladder-kl",
    "sensitivity",
    "selection",
    "comparison-gold",
    "comparison-domains",
    "diversity-comparison",
    "diversity-ladder",
  ];
  assert.deepEqual(Object.keys(svgs).sort(), [...expected].sort());
  const ladder = r.ladder.map((c) => c.name);
  const comparison = r.comparison.map((c) => c.name);
  const names: Record<string, string[]> = {
    "ladder-gold": ladder,
    "ladder-proxy": ladder,
    "ladder-kl": ladder,
    "diversity-ladder": ladder,
    sensitivity: r.sensitivity.map((s) => s.source),
    selection: r.selection.domains.map((d) => (d.filtered ? d.domain : `${d.domain} (kept whole)`)),
    "comparison-gold": comparison,
    "comparison-domains": [...comparison, ...DOMAINS],
    "diversity-comparison": comparison,
  };
  for (const name of expected) {
    const svg = svgs[name]!;
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, name);
    assert.ok(svg.length > 2000, `${name} is too small to hold a chart`);
    // Marks were drawn: lines with more than one vertex, or bars of non-zero height; not only axes.
    assert.match(
      svg,
      /aria-roledescription="line mark" d="M[^"]*L|aria-roledescription="bar" d="M[^"]*v[1-9]/,
      `${name} has no drawn line or bar`,
    );
    for (const n of names[name]!) assert.ok(svg.includes(`>${n}<`), `${name} does not name ${n}`);
  }
});

test("a run and its reward source keep one colour across plots; distinct names get distinct colours", async () => {
  const r = synthetic(["baseline", "datascale", "mystery-a", "mystery-b"]);
  const colours = colourTable(r);
  assert.equal(colours.get("rtv"), "#009E73");
  const all = [...colours.values()];
  assert.equal(new Set(all).size, all.length);
  const { svgs } = await renderReport(r);
  const rtv = colours.get("rtv")!.toLowerCase();
  for (const name of ["ladder-gold", "sensitivity", "diversity-ladder"])
    assert.ok(svgs[name]!.toLowerCase().includes(`stroke="${rtv}"`), `${name} draws rtv in its colour`);
  const mystery = colours.get("mystery-a")!.toLowerCase();
  assert.ok(svgs["comparison-gold"]!.toLowerCase().includes(`stroke="${mystery}"`));
});

test("the HTML is one self-contained page with every finding's title and badge", async () => {
  const r = synthetic();
  const { html } = await renderReport(r);
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /https?:/i);
  assert.doesNotMatch(html, /\ssrc=|<link|@import|url\(\s*["']?[a-z]/i);
  for (const f of r.findings) {
    assert.ok(html.includes(f.title), `missing title ${f.title}`);
    assert.ok(html.includes(f.measured), `missing measured sentence of ${f.id}`);
    assert.ok(html.includes(`id="finding-${f.id}"`), `missing section of ${f.id}`);
  }
  assert.equal((html.match(/class="badge yes">✓ reproduced</g) ?? []).length, 2 * 3);
  assert.equal((html.match(/class="badge no">✗ not reproduced</g) ?? []).length, 2 * 2);
  assert.equal((html.match(/class="badge unknown">\? inconclusive</g) ?? []).length, 2 * 1);
  assert.equal((html.match(/<svg/g) ?? []).length, 9);
  assert.ok(html.includes("3 reproduced, 2 not reproduced, 1 inconclusive"));
  // Setup and reward-model tables.
  for (const s of [
    "js-f32",
    "linux-x64",
    "string_transform",
    "genrm-bon",
    "42 min 13 s",
    "123,456 parameters",
    "88.0%",
  ])
    assert.ok(html.includes(s), `setup lacks ${s}`);
  // The best/final table of the comparison: datascale's best and peak step.
  const ds = r.comparison.find((c) => c.name === "datascale")!;
  assert.match(
    html,
    new RegExp(
      `<td>datascale</td><td>run datascale</td><td class="n">[^<]+</td><td class="n">${(100 * ds.best.gold).toFixed(1)}%</td><td class="n">${ds.best.step}</td>`,
    ),
  );
});

test("text from the data is escaped in the HTML, the SVGs and the markdown", async () => {
  const base = synthetic();
  const r = ExperimentResults.parse({
    ...base,
    scale: `tiny ${EVIL}`,
    world: {
      ...base.world,
      families: [...base.world.families, { family: EVIL, domain: "general", reward: "genrm-bon" }],
    },
    comparison: [...base.comparison, curve(EVIL, 9, 100)],
    findings: [
      ...base.findings,
      { ...finding(`x"><script>`, `title ${EVIL}`, null), measured: `m ${EVIL} | pipe` },
    ],
  });
  const { html, markdown, svgs } = await renderReport(r);
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /<script/i);
  assert.ok(html.includes("&lt;img onerror=x&gt;"));
  for (const svg of Object.values(svgs)) assert.doesNotMatch(svg, /<img/i);
  assert.ok(svgs["comparison-gold"]!.includes("&lt;img onerror=x&gt;"));
  assert.doesNotMatch(markdown, /<img|<script/i);
  assert.ok(markdown.includes("m &lt;img onerror=x&gt; \\| pipe"));
  // The finding's id becomes a safe anchor.
  assert.ok(html.includes('id="finding-x---script-"'));
});

test("rendering is deterministic: the same results give identical output", async () => {
  const a = await renderReport(synthetic());
  const b = await renderReport(synthetic());
  assert.equal(a.html, b.html);
  assert.equal(a.markdown, b.markdown);
  assert.deepEqual(a.svgs, b.svgs);
});

test("the markdown carries the same tables and links the plots by relative path", async () => {
  const r = synthetic();
  const { markdown, svgs } = await renderReport(r);
  for (const name of Object.keys(svgs)) assert.ok(markdown.includes(`](plots/${name}.svg)`), name);
  for (const f of r.findings) assert.ok(markdown.includes(f.title));
  assert.ok(markdown.includes("**✗ not reproduced**"));
  assert.match(markdown, /\| datascale \| run datascale \| [^|]+ \| [\d.]+% \| \d+ \|/);
  assert.match(markdown, /\| logic \| yes \| 200 \| 20 \| 0\.700 \| 85\.0% \| 10\.0% \| 25\.0% \|/);
  assert.ok(markdown.includes("| Bradley–Terry RM | pairwise accuracy against the gold ordering | 71.0% |"));
});

test("a finding the renderer does not know still gets its section; plots no finding claims are kept", async () => {
  const base = synthetic();
  const r = { ...base, findings: [finding("new-claim", "A brand new claim", true)] };
  const { html } = await renderReport(r);
  assert.ok(html.includes('id="finding-new-claim"'));
  assert.ok(html.includes('id="other"'));
  assert.equal((html.match(/<svg/g) ?? []).length, 9);
});

test("results without runs render without plots rather than failing", async () => {
  const base = synthetic();
  const r = {
    ...base,
    ladder: [],
    comparison: [],
    sensitivity: [],
    selection: { ...base.selection, domains: [] },
  };
  const { html, svgs } = await renderReport(r);
  assert.deepEqual(Object.keys(svgs), []);
  assert.ok(html.includes("No data was recorded for this finding"));
});

test("writeReport writes the page, the markdown and one SVG per plot", async () => {
  const dir = await mkdtemp(join(tmpdir(), "report-"));
  try {
    const paths = await writeReport(join(dir, "out"), synthetic());
    assert.equal(paths.length, 2 + 9);
    assert.ok(paths.includes(join(dir, "out", "report.html")));
    assert.ok(paths.includes(join(dir, "out", "plots", "ladder-gold.svg")));
    for (const p of paths) assert.ok((await stat(p)).size > 500, p);
    const md = await readFile(join(dir, "out", "report.md"), "utf8");
    for (const m of md.matchAll(/\]\((plots\/[^)]+)\)/g)) await stat(join(dir, "out", m[1]!));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the schema rejects invalid results naming the field; loadResults names the file too", async () => {
  const bad = structuredClone(synthetic()) as unknown as {
    ladder: { points: { gold: { overall: unknown } }[] }[];
  };
  bad.ladder[0]!.points[1]!.gold.overall = "high";
  const parsed = ExperimentResults.safeParse(bad);
  assert.equal(parsed.success, false);
  assert.deepEqual(parsed.error!.issues[0]!.path, ["ladder", 0, "points", 1, "gold", "overall"]);

  const dir = await mkdtemp(join(tmpdir(), "report-"));
  try {
    const good = join(dir, "good.json");
    await writeFile(good, JSON.stringify(synthetic()));
    assert.deepEqual(await loadResults(good), synthetic());
    const path = join(dir, "results.json");
    await writeFile(path, JSON.stringify(bad));
    await assert.rejects(loadResults(path), (e: unknown) => {
      assert.ok(e instanceof DataScaleError);
      assert.equal(e.code, "bad_results");
      assert.ok(e.message.includes(path));
      assert.ok(e.message.includes("ladder.0.points.1.gold.overall"));
      return true;
    });
    await writeFile(path, "{ not json");
    await assert.rejects(loadResults(path), /results\.json: not JSON/);
    await assert.rejects(loadResults(join(dir, "missing.json")), /missing\.json: cannot read/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("SVG element ids are named after the plot, not Vega's process-wide counter", async () => {
  // A clipped mark makes Vega emit a clipPath whose id comes from a global counter.
  const spec = {
    data: {
      values: [
        { x: 1, y: 2 },
        { x: 2, y: 3 },
      ],
    },
    mark: { type: "line" as const, clip: true },
    encoding: {
      x: { field: "x", type: "quantitative" as const, scale: { domain: [0, 1.5] } },
      y: { field: "y", type: "quantitative" as const },
    },
  };
  const a = await renderSvg("p", spec);
  const b = await renderSvg("p", spec);
  assert.equal(a, b);
  assert.match(a, /<clipPath id="p-1">/);
  assert.match(a, /clip-path="url\(#p-1\)"/);
  assert.doesNotMatch(a, /clip\d/);
});
