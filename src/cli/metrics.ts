// `datascale metrics diversity|hacking|sensitivity`: print a table, write the JSON.
import { parseArgs } from "node:util";
import { errorMessage } from "../core/errors.ts";
import { writeJsonAtomic } from "../io/rundir.ts";
import {
  diversityJob,
  formatDiversity,
  formatHacking,
  formatSensitivity,
  hackingJob,
  sensitivityJob,
} from "../metrics/run.ts";

const HELP = `usage: datascale metrics diversity|hacking|sensitivity --in FILE [--out FILE] [options]

diversity    samples per prompt: {id, responses: [...], logprobs?: [[...]]} or one line per
             sample {id, response, logprobs?} with a prompt's lines together. Max and mean
             pairwise edit distance, distinct-1/2, self-BLEU, mean token entropy.
hacking      a training log, one line per (step, domain): {step, domain, proxy, gold?,
             heldout?, kl?}. Proxy-vs-gold divergence and correlation, held-out peak
             ("rose then fell"), and the Gao et al. fit gold = d(α − β log d), d = √KL.
sensitivity  scored samples: {id, response, score} lines (or {id, responses, scores}).
             Mean score gap per normalised edit-distance bin between a prompt's responses.

options:
  --in FILE         input JSONL
  --out FILE        JSON result (default: IN.KIND.json)
  --min-rise X      hacking: rise needed before a peak counts (default: 0)
  --min-drop X      hacking: fall after the peak needed for "rose then fell" (default: 0)
  --window N        hacking: moving-average window over held-out scores (default: 1)
  --edges LIST      sensitivity: comma-separated bin edges (default: 0,0.05,0.1,0.2,0.4,0.7,1)
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      in: { type: "string" },
      out: { type: "string" },
      "min-rise": { type: "string" },
      "min-drop": { type: "string" },
      window: { type: "string" },
      edges: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const kind = positionals[0];
  if (kind !== "diversity" && kind !== "hacking" && kind !== "sensitivity") {
    process.stderr.write(`datascale metrics: need diversity, hacking or sensitivity\n\n${HELP}`);
    return 2;
  }
  if (values.in === undefined) {
    process.stderr.write(`datascale metrics: --in is required\n`);
    return 2;
  }
  const warn = (m: string) => process.stderr.write(`datascale metrics: ${m}\n`);
  const num = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x)) throw new Error(`${flag}: not a number: '${v}'`);
    return x;
  };
  try {
    const out = values.out ?? `${values.in}.${kind}.json`;
    let result: unknown;
    let text: string;
    if (kind === "diversity") {
      const r = await diversityJob(values.in, warn);
      result = r;
      text = formatDiversity(r);
    } else if (kind === "hacking") {
      const o: { minRise?: number; minDrop?: number; window?: number } = {};
      const a = num("--min-rise", values["min-rise"]);
      const b = num("--min-drop", values["min-drop"]);
      const w = num("--window", values.window);
      if (a !== undefined) o.minRise = a;
      if (b !== undefined) o.minDrop = b;
      if (w !== undefined) o.window = w;
      const r = await hackingJob(values.in, warn, o);
      result = { domains: r };
      text = formatHacking(r);
    } else {
      const edges = values.edges?.split(",").map((e) => num("--edges", e)!);
      const r = await sensitivityJob(values.in, warn, edges);
      result = { bins: r };
      text = formatSensitivity(r);
    }
    await writeJsonAtomic(out, result);
    process.stdout.write(`${text}(JSON: ${out})\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`datascale metrics: ${errorMessage(e)}\n`);
    return 1;
  }
}
