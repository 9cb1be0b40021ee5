// Resume after SIGKILL: the CLI is killed once a checkpoint exists, rerun with the same
// command, and must end with exactly the parameters and metrics of an uninterrupted run
// with the same seed. Also: config validation names the file and field.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { availableKernels } from "../../src/model/kernels/index.ts";
import { loadTrainConfig } from "../../src/train/config.ts";

const dir = mkdtempSync(join(tmpdir(), "ds-train-resume-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const MAIN = join(import.meta.dirname, "../../src/cli/main.ts");
/** Steps of each run: the kill lands after checkpoint 4, well before the last on a busy machine too. */
const STEPS = 12;

function config(runDir: string, critic = "head", kernel = "wasm"): string {
  const path = join(dir, `${runDir}.yaml`);
  writeFileSync(
    path,
    [
      `runDir: ${join(dir, runDir)}`,
      "seed: 7",
      "model:",
      "  config: { dim: 32, nLayers: 1, nHeads: 2, maxSeqLen: 24 }",
      `  kernel: ${kernel}`,
      "data:",
      "  tasks: { family: arithmetic, n: 32, difficulty: 0 }",
      `train: { steps: ${STEPS}, lr: 0.001, warmup: 0, checkpointEvery: 2 }`,
      `rl: { promptsPerStep: 4, rolloutsPerPrompt: 2, maxResponseTokens: 3, miniBatchSize: 4, kl: { target: 1, horizon: 100 }, critic: ${critic} }`,
      "",
    ].join("\n"),
  );
  return path;
}

function runCli(cfg: string, killAtCheckpoint?: string): Promise<number | string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "train", "ppo", "--config", cfg, "--quiet"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    let timer: NodeJS.Timeout | undefined;
    if (killAtCheckpoint !== undefined) {
      timer = setInterval(() => {
        if (!existsSync(killAtCheckpoint)) return;
        const latest = JSON.parse(readFileSync(killAtCheckpoint, "utf8")) as { step: number };
        if (latest.step >= 4) child.kill("SIGKILL");
      }, 20);
    }
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (timer !== undefined) clearInterval(timer);
      if (code !== 0 && signal === null) reject(new Error(`exit ${code}: ${err}`));
      else resolve(signal ?? code ?? -1);
    });
  });
}

const stable = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => {
      const m = JSON.parse(l) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(m).filter(([k]) => !k.endsWith("_s") && !k.includes("per_s")));
    });

// The blas kernel (the default when the native addon loads) must resume bit-identically too.
const cases = [
  { critic: "head", kernel: "wasm" },
  { critic: "separate", kernel: "wasm" },
  ...(availableKernels().includes("blas") ? [{ critic: "head", kernel: "blas" }] : []),
];
for (const { critic, kernel } of cases) {
  test(`PPO (${critic} critic, ${kernel} kernel) killed with SIGKILL resumes from its last checkpoint to the uninterrupted run's exact state`, async () => {
    const a = `a-${critic}-${kernel}`;
    const bName = `b-${critic}-${kernel}`;
    assert.equal(await runCli(config(a, critic, kernel)), 0);
    const b = config(bName, critic, kernel);
    const signal = await runCli(b, join(dir, bName, "latest.json"));
    assert.equal(signal, "SIGKILL", "the first run of b was killed mid-way");
    const killedAt = JSON.parse(readFileSync(join(dir, bName, "latest.json"), "utf8")) as { step: number };
    assert.ok(killedAt.step >= 4 && killedAt.step < STEPS, `killed after checkpoint ${killedAt.step}`);
    assert.equal(await runCli(b), 0);
    for (const file of ["model.safetensors", ...(critic === "head" ? ["heads.safetensors"] : [])]) {
      const pa = readFileSync(join(dir, a, "model", file));
      const pb = readFileSync(join(dir, bName, "model", file));
      assert.ok(pa.equals(pb), `final parameters are bit-identical (${file})`);
    }
    const ma = stable(join(dir, a, "metrics.jsonl"));
    const mb = stable(join(dir, bName, "metrics.jsonl"));
    assert.equal(ma.length, STEPS);
    assert.deepEqual(mb, ma, "metrics of every step match");
    assert.ok(
      typeof ma[STEPS - 1]!["kl_coef"] === "number" && ma[STEPS - 1]!["kl_coef"] !== 0.05,
      "the adaptive β was carried through",
    );
    if (critic === "separate") {
      const ca = readFileSync(
        join(dir, a, "checkpoints", `step-${String(STEPS).padStart(6, "0")}`, "critic_params.bin"),
      );
      const cb = readFileSync(
        join(dir, bName, "checkpoints", `step-${String(STEPS).padStart(6, "0")}`, "critic_params.bin"),
      );
      assert.ok(ca.equals(cb), "the separate critic's final parameters are bit-identical too");
    }
  });
}

test("a bad config names the file and the field", () => {
  const path = join(dir, "bad.yaml");
  writeFileSync(path, "runDir: x\ntrain: { steps: -3 }\n");
  assert.throws(() => loadTrainConfig(path), /bad\.yaml: train\.steps: .*/);
  writeFileSync(path, "runDir: x\nbogus: 1\n");
  assert.throws(() => loadTrainConfig(path), /bad\.yaml: .*bogus/);
});
