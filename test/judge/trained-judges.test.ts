// The judges we train are Hugging Face models a server can host: a tiny GenRM and a tiny
// Bradley–Terry model, trained through the trainers (which write <runDir>/model in the HF
// layout), are served by real `datascale serve-model` processes and used as judges by a real
// `datascale serve-reward` process. Its rewards equal those of the same judges in-process
// (the embedded backend on the same model directories), and the BT judge's raw reward is the
// trainer's own rewardScores of the model in memory.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import type { Reward, Rollout } from "../../src/core/schemas.ts";
import { parseRewardConfig } from "../../src/reward/config.ts";
import { createRewardSystem } from "../../src/reward/system.ts";
import { byteTokenizer, newDecoder } from "../../src/train/models.ts";
import {
  rewardScores,
  TRAINED_BT_FORMAT,
  TRAINED_GENRM_TEMPLATE,
  trainGenRm,
  trainRewardModel,
} from "../../src/train/rm.ts";
import { RunDir } from "../../src/train/rundir.ts";
import { kernel, vowelPairs } from "../train/helpers.ts";

const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "trained-judges-"));
const tokenizer = byteTokenizer();
const SHAPE = { vocabSize: tokenizer.vocabSize, dim: 32, nLayers: 1, nHeads: 2, maxSeqLen: 64 };
const opts = { batchSize: 16, warmup: 2, seed: 1, evalEvery: 0, checkpointEvery: 0 };
/**
 * Both sides run the same decoder on the same kernel and the same judge code; only the
 * batches differ (the server merges concurrent requests, which can change a GEMM's row blocks
 * and so float32 rounding in the last bits, ~1e-7 relative on a logit). Scores are
 * probabilities in [0, 1]; 1e-5 leaves two orders of magnitude above that and is far below
 * any real difference (a wrong template or token moves a score by ≥ 1e-2).
 */
const TOLERANCE = 1e-5;

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `datascale <args>`; resolves with the first stdout line or stderr match. */
async function start(
  args: string[],
  ready: (line: string) => string | undefined,
  stream: "stdout" | "stderr",
) {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let log = "";
  child.stderr!.on("data", (d) => {
    log += d;
  });
  const lines = createInterface({ input: stream === "stdout" ? child.stdout! : child.stderr! });
  const found = new Promise<string>((resolve, reject) => {
    lines.on("line", (l) => {
      const v = ready(l);
      if (v !== undefined) resolve(v);
    });
    child.once("exit", (code) => reject(new Error(`datascale ${args[0]} exited ${code}: ${log}`)));
  });
  return found;
}

let genrmDir: string;
let btDir: string;
let btMemory: ReturnType<typeof newDecoder>;
const pairs = vowelPairs(160, 9);

before(async () => {
  const genrmRun = new RunDir(join(dir, "genrm"));
  await trainGenRm({
    model: newDecoder(SHAPE, 3, kernel),
    tokenizer,
    train: pairs,
    options: { ...opts, steps: 30, lr: 3e-3 },
    runDir: genrmRun,
  });
  genrmDir = genrmRun.modelDir;
  const btRun = new RunDir(join(dir, "bt"));
  btMemory = newDecoder({ ...SHAPE, rewardHead: true }, 4, kernel);
  await trainRewardModel({
    model: btMemory,
    tokenizer,
    train: pairs,
    options: { ...opts, steps: 30, lr: 3e-3 },
    runDir: btRun,
  });
  btDir = btRun.modelDir;
});

function rewardConfig(backend: (name: string, dir: string) => object) {
  const template = join(dir, "genrm-template.md");
  writeFileSync(template, TRAINED_GENRM_TEMPLATE);
  return {
    judges: {
      genrm: {
        kind: "genrm",
        backend: backend("genrm", genrmDir),
        templates: { gt: template, bon: template },
        bothOrders: true,
      },
      bt: { kind: "bt", backend: backend("bt", btDir), format: TRAINED_BT_FORMAT },
    },
    routes: [
      { match: { source: "gt" }, reward: { type: "judge", judge: "genrm", reference: "gt" } },
      { match: { source: "bon" }, reward: { type: "judge", judge: "genrm", reference: "bon" } },
      { match: { source: "bt" }, reward: { type: "judge", judge: "bt", reference: "bon" } },
    ],
    verify: { workers: 1 },
  };
}

function rollouts(): Rollout[] {
  const out: Rollout[] = [];
  pairs.slice(0, 8).forEach((p, i) => {
    const base = { domain: "chat", prompt: p.prompt };
    out.push({ ...base, id: `gt-${i}`, source: "gt", response: p.rejected, reference: { answer: p.chosen } });
    out.push({
      ...base,
      id: `bon-${i}`,
      source: "bon",
      response: p.chosen,
      reference: { response: p.rejected },
    });
    out.push({
      ...base,
      id: `bt-${i}`,
      source: "bt",
      response: p.chosen,
      reference: { response: p.rejected },
    });
    out.push({ ...base, id: `bt1-${i}`, source: "bt", response: p.rejected });
  });
  return out;
}

test("trained GenRM and BT served by serve-model, judged through serve-reward, score as in-process", async () => {
  const url = (line: string) => (/^http:\/\/127\.0\.0\.1:\d+\/v1$/.test(line) ? line : undefined);
  const [genrmUrl, btUrl] = await Promise.all([
    start(["serve-model", "--model", genrmDir, "--port", "0", "--name", "genrm"], url, "stdout"),
    start(["serve-model", "--model", btDir, "--port", "0", "--name", "bt"], url, "stdout"),
  ]);
  const urls: Record<string, string> = { genrm: genrmUrl, bt: btUrl };
  const cfgPath = join(dir, "reward.json");
  writeFileSync(
    cfgPath,
    JSON.stringify(rewardConfig((name) => ({ type: "openai", baseUrl: urls[name], model: name }))),
  );
  const rewardUrl = await start(
    ["serve-reward", "--config", cfgPath, "--port", "0", "--workers", "1", "--no-run-code"],
    (l) => /reward server on (http:\/\/\S+)/.exec(l)?.[1],
    "stderr",
  );
  const batch = rollouts();
  const res = await fetch(`${rewardUrl}/v1/rewards`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ rollouts: batch }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const served = ((await res.json()) as { rewards: Reward[] }).rewards;

  const system = await createRewardSystem(
    parseRewardConfig(rewardConfig((_, model) => ({ type: "embedded", model }))),
  );
  let local: Reward[];
  try {
    local = await system.rewardFn(batch);
  } finally {
    await system.close();
  }
  assert.equal(served.length, batch.length);
  let worst = 0;
  for (const [i, r] of served.entries()) {
    const l = local[i]!;
    assert.notEqual(r.verdict, "error", JSON.stringify(r));
    assert.equal(r.id, batch[i]!.id);
    assert.equal(r.source, l.source);
    worst = Math.max(worst, Math.abs(r.score - l.score));
  }
  process.stdout.write(
    `# served vs in-process judges: max |Δ score| ${worst.toExponential(2)} over ${served.length}\n`,
  );
  assert.ok(worst <= TOLERANCE, `served rewards differ from in-process ones by ${worst}`);
  assert.deepEqual(
    [...new Set(served.map((r) => r.source))].sort(),
    ["bt", "genrm:bon", "genrm:gt"],
    "every judge took part",
  );
  assert.ok(new Set(served.map((r) => r.score.toFixed(3))).size > 4, "the scores are not all alike");

  // The BT judge's raw reward is what the trainer's own scoring gives the model it trained.
  const bt = served.filter((r) => r.source === "bt");
  const mine = rewardScores(
    btMemory,
    tokenizer,
    bt.map((r) => {
      const x = batch.find((b) => b.id === r.id)!;
      return { prompt: x.prompt!, response: x.response };
    }),
  );
  const rawWorst = Math.max(...bt.map((r, i) => Math.abs((r.details!["reward"] as number) - mine[i]!)));
  process.stdout.write(
    `# served BT reward vs the trainer's rewardScores: max |Δ| ${rawWorst.toExponential(2)}\n`,
  );
  assert.ok(rawWorst <= 1e-4, `the served BT reward differs from the trainer's by ${rawWorst}`);
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, "exit") : undefined)));
});
