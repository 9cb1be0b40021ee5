// `npm run conformance`: every suite under test/conformance/*/ scored through the verifier
// registry; per suite our agreement beside the owner's, then one JSON line.
// `--misses` lists the cases we get wrong.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { VerifierRegistry } from "../../src/verify/registry.ts";
import { loadSuites, scoreSuite, unionOf } from "./conformance.ts";

const root = dirname(fileURLToPath(import.meta.url));
const showMisses = process.argv.includes("--misses");
const registry = new VerifierRegistry();
const scores = [];
for (const s of loadSuites(root)) scores.push(await scoreSuite(s, registry));

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
console.log(
  "| suite | domain | cases | disputed | ours | owner | ours (suite labels) | owner (suite labels) |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const s of scores) {
  const mark = s.ours < s.owner ? " **below owner**" : "";
  console.log(
    `| ${s.suite} | ${s.domain} | ${s.cases} | ${s.disputed} | ${pct(s.ours)}${mark} | ${pct(s.owner)} | ${pct(s.oursRaw)} | ${pct(s.ownerRaw)} |`,
  );
}
const union = unionOf(scores);
const raw = unionOf(scores.map((s) => ({ ...s, ours: s.oursRaw })));
const show = (u: Record<string, number>) =>
  Object.entries(u)
    .map(([d, x]) => `${d} ${pct(x)}`)
    .join(", ");
console.log(`\nunion: ${show(union)} (against the suites' own labels: ${show(raw)})`);
if (showMisses) {
  for (const s of scores) {
    for (const m of s.misses)
      console.log(`MISS ${s.suite} ${m.id}: want ${m.want}, got ${m.got} (${m.reason})`);
  }
}
console.log(
  JSON.stringify({
    bench: "conformance",
    suites: scores.map((s) => ({
      suite: s.suite,
      domain: s.domain,
      cases: s.cases,
      ours: s.ours,
      owner: s.owner,
    })),
    union: { math: union["math"] ?? null, instruction: union["instruction"] ?? null, ...union },
  }),
);
