import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { poolSeeds } from "../../src/experiment/findings.ts";
import { colourTable } from "../../src/experiment/plots.ts";
import { renderReport, renderSvg, writeReport } from "../../src/experiment/report.ts";
import { SeedResults } from "../../src/experiment/results.ts";
import { curve, DOMAINS, EVIL, seedResults, syntheticRun } from "./fixtures.ts";

const PLOTS = [
  "effects",
  "ladder-gold",
  "ladder-gao",
  "ladder-proxy",
  "sensitivity",
  "selection",
  "comparison-gold",
  "comparison-domains",
  "diversity-comparison",
  "diversity-ladder",
];

test("every plot renders to a non-empty SVG with drawn marks that names what it draws", async () => {
  const { pooled, seeds } = syntheticRun();
  const { svgs } = await renderReport(pooled, seeds);
  assert.deepEqual(Object.keys(svgs).sort(), [...PLOTS].sort());
  const ladder = seeds[0]!.ladder.map((c) => c.name);
  const comparison = seeds[0]!.comparison.map((c) => c.name);
  const names: Record<string, string[]> = {
    effects: ["reproduced"],
    "ladder-gold": ladder,
    "ladder-gao": ladder,
    "ladder-proxy": ladder,
    "diversity-ladder": ladder,
    sensitivity: seeds[0]!.sensitivity.map((s) => s.source),
    selection: seeds[0]!.selection.domains.map((d) => (d.filtered ? d.domain : `${d.domain} (kept whole)`)),
    "comparison-gold": comparison,
    "comparison-domains": [...comparison, ...DOMAINS],
    "diversity-comparison": comparison,
  };
  for (const name of PLOTS) {
    const svg = svgs[name]!;
    assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, name);
    assert.ok(svg.length > 2000, `${name} is too small to hold a chart`);
    // Marks were drawn: lines with more than one vertex, bars of non-zero height, or symbols.
    assert.match(
      svg,
      /aria-roledescription="line mark" d="M[^"]*L|aria-roledescription="bar" d="M[^"]*v[1-9]|aria-roledescription="point"/,
      `${name} has no drawn mark`,
    );
    for (const n of names[name]!) assert.ok(svg.includes(`>${n}<`), `${name} does not name ${n}`);
  }
  // Bands across seeds: the curve plots draw areas.
  for (const name of ["ladder-gold", "comparison-gold", "diversity-ladder", "sensitivity"])
    assert.match(svgs[name]!, /aria-roledescription="area mark"/, `${name} has no band`);
  // The misleading "lift normalised to peak" panel is gone.
  assert.doesNotMatch(svgs["ladder-gold"]!, /normalised to each curve/);
});

test("a run and its reward source keep one colour across plots; distinct names get distinct colours", async () => {
  const { seeds } = syntheticRun(3, { comparisonNames: ["baseline", "datascale", "mystery-a", "mystery-b"] });
  const colours = colourTable(seeds);
  assert.equal(colours.get("rtv"), "#009E73");
  const all = [...colours.values()];
  assert.equal(new Set(all).size, all.length);
  const { svgs } = await renderReport(poolSeeds(seeds, 1), seeds);
  const rtv = colours.get("rtv")!.toLowerCase();
  for (const name of ["ladder-gold", "sensitivity", "diversity-ladder"])
    assert.ok(svgs[name]!.toLowerCase().includes(`stroke="${rtv}"`), `${name} draws rtv in its colour`);
  const mystery = colours.get("mystery-a")!.toLowerCase();
  assert.ok(svgs["comparison-gold"]!.toLowerCase().includes(`stroke="${mystery}"`));
});

test("the HTML is one self-contained page with every finding, its interval table and verdict", async () => {
  const { pooled, seeds } = syntheticRun();
  const { html } = await renderReport(pooled, seeds);
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /https?:/i);
  assert.doesNotMatch(html, /\ssrc=|<link|@import|url\(\s*["']?[a-z]/i);
  for (const f of pooled.findings) {
    assert.ok(html.includes(f.title), `missing title ${f.title}`);
    assert.ok(html.includes(f.measured.replaceAll("<", "&lt;")), `missing measured sentence of ${f.id}`);
    assert.ok(html.includes(`id="finding-${f.id}"`), `missing section of ${f.id}`);
  }
  const n = (v: string) => pooled.findings.filter((f) => f.verdict === v).length;
  assert.ok(
    html.includes(
      `${n("reproduced")} reproduced, ${n("not reproduced")} not reproduced, ${n("inconclusive")} inconclusive`,
    ),
  );
  assert.equal((html.match(/<svg/g) ?? []).length, PLOTS.length);
  assert.ok(html.includes("How to read this report"));
  // The comparison table: one column per seed, the pooled interval and the verdict.
  assert.ok(html.includes("<th>seed 1</th><th>seed 2</th><th>seed 3</th><th>mean [95 % interval]</th>"));
  for (const s of ["js-f32", "linux-x64", "string_transform", "123,456 parameters", "92.0%", "met"])
    assert.ok(html.includes(s), `setup lacks ${s}`);
  // Gao's fit table.
  assert.ok(html.includes("<th>α</th><th>β</th><th>R²</th>"));
});

test("text from the data is escaped in the HTML, the SVGs and the markdown", async () => {
  const seeds = [1, 2, 3].map((s) => {
    const r = seedResults(s);
    return SeedResults.parse({
      ...r,
      scale: `tiny ${EVIL}`,
      world: {
        ...r.world,
        families: [...r.world.families, { family: EVIL, domain: "general", reward: "genrm-bon" }],
      },
      comparison: [...r.comparison, curve(EVIL, 9, 100)],
    });
  });
  const pooled = poolSeeds(seeds, 1);
  const { html, markdown, svgs } = await renderReport(pooled, seeds);
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /<script/i);
  assert.ok(html.includes("&lt;img onerror=x&gt;"));
  for (const svg of Object.values(svgs)) assert.doesNotMatch(svg, /<img/i);
  assert.ok(svgs["comparison-gold"]!.includes("&lt;img onerror=x&gt;"));
  assert.doesNotMatch(markdown, /<img|<script/i);
});

test("rendering is deterministic: the same results give identical output", async () => {
  const { pooled, seeds } = syntheticRun();
  const a = await renderReport(pooled, seeds);
  const b = await renderReport(pooled, seeds);
  assert.equal(a.html, b.html);
  assert.equal(a.markdown, b.markdown);
  assert.deepEqual(a.svgs, b.svgs);
});

test("the markdown carries the same tables and links the plots by relative path", async () => {
  const { pooled, seeds } = syntheticRun();
  const { markdown, svgs } = await renderReport(pooled, seeds);
  for (const name of Object.keys(svgs)) assert.ok(markdown.includes(`](plots/${name}.svg)`), name);
  for (const f of pooled.findings) assert.ok(markdown.includes(f.title));
  assert.ok(markdown.includes("**✓ reproduced**"));
  assert.match(markdown, /\| logic \| yes \| 200 \| 20\.0 \| 0\.600 \| 85\.0% \| 10\.0% \| 25\.0% \|/);
});

test("one seed renders, says nothing is decided, and a run without runs renders without plots", async () => {
  const one = syntheticRun(1);
  const { html } = await renderReport(one.pooled, one.seeds);
  assert.ok(html.includes("0 reproduced, 0 not reproduced, 6 inconclusive"));
  assert.ok(html.includes("With 1 seed(s) nothing is decided"));
  const empty = one.seeds.map((r) => ({
    ...r,
    ladder: [],
    comparison: [],
    sensitivity: [],
    selection: { ...r.selection, domains: [] },
  }));
  const r = await renderReport(poolSeeds(empty, 1), empty);
  assert.deepEqual(Object.keys(r.svgs), ["effects"]);
  assert.ok(r.html.includes("No data was recorded for this finding"));
});

test("writeReport writes the page, the markdown and one SVG per plot", async () => {
  const dir = await mkdtemp(join(tmpdir(), "report-"));
  try {
    const { pooled, seeds } = syntheticRun();
    const paths = await writeReport(join(dir, "out"), pooled, seeds);
    assert.equal(paths.length, 2 + PLOTS.length);
    assert.ok(paths.includes(join(dir, "out", "report.html")));
    assert.ok(paths.includes(join(dir, "out", "plots", "ladder-gold.svg")));
    for (const p of paths) assert.ok((await stat(p)).size > 500, p);
    const md = await readFile(join(dir, "out", "report.md"), "utf8");
    for (const m of md.matchAll(/\]\((plots\/[^)]+)\)/g)) await stat(join(dir, "out", m[1]!));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the schema rejects invalid seed results naming the field", () => {
  const bad = structuredClone(seedResults(1)) as unknown as {
    ladder: { points: { heldout: { overall: unknown } }[] }[];
  };
  bad.ladder[0]!.points[1]!.heldout.overall = "high";
  const parsed = SeedResults.safeParse(bad);
  assert.equal(parsed.success, false);
  assert.deepEqual(parsed.error!.issues[0]!.path, ["ladder", 0, "points", 1, "heldout", "overall"]);
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

test("a report pooled from seeds that ran elsewhere says it has no wall time of its own, not 0 s", async () => {
  const { seeds } = syntheticRun(3);
  const pooledHere = await renderReport(poolSeeds(seeds, 0), seeds);
  assert.match(
    pooledHere.markdown,
    /wall time \(this invocation\) \| none: pooled from the seeds' results\.json/,
  );
  const ranHere = await renderReport(poolSeeds(seeds, 754), seeds);
  assert.match(ranHere.markdown, /wall time \(this invocation\) \| 12 min 34 s/);
});
