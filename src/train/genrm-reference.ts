// The paper's pointwise GenRM (`datascale train genrm` with `genrm.format: reference`): a
// judge that answers YES or NO to "does this response match the reference?", p(YES) being
// the reward. It is trained on the served judge's own questions — genrmMessages (judge/
// genrm.ts) with the template the run's reward config names, tokenized by an
// EmbeddedBackend loaded from the model directory it will be served from — and measured by
// that judge (judge/factory.ts, built from the reward config written to the run directory)
// over the model in training. So `datascale serve-reward --config <runDir>/reward-genrm.yaml`
// scores exactly what the metrics measured.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { stringify } from "yaml";
import { EmbeddedBackend } from "../backend/embedded.ts";
import { DataScaleError } from "../core/errors.ts";
import type { Message, Rollout } from "../core/schemas.ts";
import { makeJudge } from "../judge/factory.ts";
import { genrmMessages } from "../judge/genrm.ts";
import type { Judge } from "../judge/types.ts";
import type { Decoder } from "../model/decoder.ts";
import type { Tokenizer } from "../model/types.ts";
import { loadRewardConfig } from "../reward/config.ts";
import type { PromptResponse } from "./data.ts";
import type { EvalHook, StepMetrics } from "./loop.ts";
import type { RmOptions } from "./rm.ts";
import { type RunDir, saveModel } from "./rundir.ts";
import { trainSft } from "./sft.ts";

/**
 * The question of the pointwise judge, compact for small models: the prompt, the response
 * (`first`), the reference (`second`), "does it match?". The main job's GenRM asks it too.
 */
export const REFERENCE_GENRM_TEMPLATE = "{{prompt}}\nA:{{first}}\nref:{{second}}\nA=ref?";

/** One pointwise judgement: is `response` a match for `reference` (as good as it) on `prompt`? */
export interface ReferenceJudgement {
  prompt: string;
  response: string;
  reference: string;
  label: boolean;
  /** Where the record came from (`file:line`), to name it in reports. */
  where?: string | undefined;
}

/**
 * A judgement as a training example: the question the served GenRM asks with one order
 * (bothOrders: false) — genrmMessages with the response first and the reference second —
 * tokenized by `encode` (the serving backend's encodeInput), answered YES or NO.
 */
export async function referenceExample(
  template: string,
  j: ReferenceJudgement,
  encode: (messages: Message[]) => number[] | Promise<number[]>,
): Promise<PromptResponse> {
  const messages = genrmMessages(template, { prompt: j.prompt, first: j.response, second: j.reference });
  return { prompt: "", promptIds: await encode(messages), response: j.label ? "YES" : "NO" };
}

/**
 * Balanced accuracy of p ≥ 0.5 against the labels: the mean of the YES items' and the NO
 * items' accuracies (a class with no items sits out), so a judge that always answers the
 * majority scores 0.5 however skewed the data. Items whose p is not finite (a judge error)
 * count in neither class.
 */
export function balancedAccuracy(labels: readonly boolean[], p: readonly number[]): number {
  const parts = [classAccuracy(labels, p, true), classAccuracy(labels, p, false)].filter(
    (x): x is number => x !== null,
  );
  return parts.reduce((a, b) => a + b, 0) / Math.max(1, parts.length);
}

/** Accuracy (p ≥ 0.5 is a YES) on the items labelled `yes` with a finite p; null when there are none. */
function classAccuracy(labels: readonly boolean[], p: readonly number[], yes: boolean): number | null {
  const idx = labels.flatMap((l, i) => (l === yes && Number.isFinite(p[i]) ? [i] : []));
  return idx.length === 0 ? null : idx.filter((i) => p[i]! >= 0.5 === yes).length / idx.length;
}

export interface ReferenceEval {
  /** Mean of yesAccuracy and noAccuracy (p ≥ 0.5 is a YES). */
  balancedAccuracy: number;
  /** Accuracy on the items labelled YES (null when there are none); likewise noAccuracy. */
  yesAccuracy: number | null;
  noAccuracy: number | null;
  /** Mean squared error of p(YES) against the 1/0 labels. */
  brier: number;
  yesItems: number;
  noItems: number;
  /** Items the judge answered with an `error` reward: in no figure above. */
  errors: number;
}

export function referenceEval(labels: readonly boolean[], p: readonly number[]): ReferenceEval {
  const scored = labels.flatMap((l, i) => (Number.isFinite(p[i]) ? [{ l, p: p[i]! }] : []));
  return {
    balancedAccuracy: balancedAccuracy(labels, p),
    yesAccuracy: classAccuracy(labels, p, true),
    noAccuracy: classAccuracy(labels, p, false),
    brier: scored.reduce((a, x) => a + (x.p - (x.l ? 1 : 0)) ** 2, 0) / Math.max(1, scored.length),
    yesItems: scored.filter((x) => x.l).length,
    noItems: scored.filter((x) => !x.l).length,
    errors: labels.length - scored.length,
  };
}

/** What a run directory gets so that its model is served as the reference GenRM. */
export interface ServedReferenceJudge {
  /** The reward config: <runDir>/reward-genrm.yaml. */
  configPath: string;
  /** The template it names: <runDir>/genrm-template.md. */
  templatePath: string;
}

/**
 * The reward config that serves <runDir>/model as the pointwise GenRM: one order (the judge
 * was trained on (response, reference) only), p(YES) from the whole first-token distribution
 * (an in-process engine is not capped at 20 candidates; over HTTP set topK to the server's
 * cap), no cache (a cache keyed by the model's name would outlive a retrained model). No
 * routes: the paper's routing applies (reward/config.ts paperRoutes).
 */
export function referenceRewardConfig(modelDir: string, templatePath: string, vocabSize: number): unknown {
  return {
    judges: {
      genrm: {
        kind: "genrm",
        backend: { type: "embedded", model: modelDir },
        templates: { gt: templatePath, bon: templatePath },
        bothOrders: false,
        samples: 0,
        topK: vocabSize,
      },
    },
  };
}

export function writeReferenceRewardConfig(
  runDir: string,
  template: string,
  vocabSize: number,
): ServedReferenceJudge {
  const dir = resolve(runDir);
  const templatePath = join(dir, "genrm-template.md");
  const configPath = join(dir, "reward-genrm.yaml");
  writeFileSync(templatePath, template);
  const header =
    "# The reference GenRM trained in this run directory, as the reward system serves it:\n" +
    `#   datascale serve-reward --config ${configPath}\n` +
    "# No routes, so the paper's routing applies: verifiers for math, code, instruction,\n" +
    "# logic and qa; this GenRM against reference.answer where a rollout has one, else against\n" +
    "# reference.response (Best-of-N). Copy judges.genrm into a config of your own to route it there.\n";
  const body = stringify(referenceRewardConfig(join(dir, "model"), templatePath, vocabSize));
  writeFileSync(configPath, header + body);
  return { configPath, templatePath };
}

/**
 * An EmbeddedBackend over the model in training, loaded as serving loads <runDir>/model:
 * the model is saved by the trainers' writer to a scratch directory and opened with
 * EmbeddedBackend.fromDirectory (its tokenizer files, chat template, prompt encoding and stop
 * ids), the saved weights replaced by the live decoder — so questions are tokenized, and
 * answers read, by the very code that serves the final model.
 */
export async function servingBackend(
  model: Decoder,
  tokenizer: Tokenizer,
  name = "model",
): Promise<EmbeddedBackend> {
  const scratch = mkdtempSync(join(tmpdir(), "ds-genrm-serving-"));
  try {
    saveModel(join(scratch, "model"), model, tokenizer);
    return await EmbeddedBackend.fromDirectory(join(scratch, "model"), () => model, { name });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface Fitted {
  judgement: ReferenceJudgement;
  example: PromptResponse;
}

/**
 * The judgements whose question fits the model: the served judge refuses a question of
 * maxSeqLen tokens or more (there is no room for the answer), so training on it would teach
 * nothing the judge can use. Each one left out is reported by its `where`.
 */
async function fitting(
  items: readonly ReferenceJudgement[],
  template: string,
  backend: EmbeddedBackend,
  maxSeqLen: number,
  report: (message: string) => void,
): Promise<Fitted[]> {
  const out: Fitted[] = [];
  for (const judgement of items) {
    const example = await referenceExample(template, judgement, (messages) =>
      backend.encodeInput({ messages }),
    );
    const n = example.promptIds!.length;
    if (n < maxSeqLen) out.push({ judgement, example });
    else
      report(
        `${judgement.where ?? "a record"}: skipped: the judge's question is ${n} tokens, the model holds ${maxSeqLen} (no room for the answer)`,
      );
  }
  return out;
}

/** p(YES) of each judgement through `judge` against the ground truth (`reference.answer`). */
async function judgeEval(judge: Judge, items: readonly ReferenceJudgement[]): Promise<ReferenceEval> {
  // The judge reads no domain; "general" is the paper's name for the unverified rest.
  const rollouts: Rollout[] = items.map((j, i) => ({
    id: i,
    domain: "general",
    prompt: j.prompt,
    response: j.response,
    reference: { answer: j.reference },
  }));
  const rewards = await judge.judge(rollouts, "gt");
  return referenceEval(
    items.map((j) => j.label),
    rewards.map((r) => (r.verdict === "error" ? Number.NaN : r.score)),
  );
}

export interface ReferenceGenRmRun {
  model: Decoder;
  tokenizer: Tokenizer;
  train: readonly ReferenceJudgement[];
  eval?: readonly ReferenceJudgement[] | undefined;
  /** The question's wording (default REFERENCE_GENRM_TEMPLATE). */
  template?: string | undefined;
  options: RmOptions;
  runDir: RunDir;
  onStep?: ((step: number, metrics: StepMetrics) => void) | undefined;
  /** Where a left-out judgement is reported (default stderr). */
  report?: ((message: string) => void) | undefined;
}

export interface ReferenceGenRmResult {
  /** The reward config that serves <runDir>/model as the reference GenRM. */
  rewardConfig: string;
  trainItems: number;
  /** Held-out figures through the served judge, as of the final model. */
  eval: ReferenceEval | undefined;
}

/**
 * GenRM training as SFT on YES/NO answers to the served judge's questions; held-out
 * figures (referenceEval) after every `evalEvery` steps and the last, in metrics.jsonl
 * under `eval`. The model is saved to <runDir>/model with the reward config beside it.
 */
export async function trainReferenceGenRm(run: ReferenceGenRmRun): Promise<ReferenceGenRmResult> {
  const template = run.template ?? REFERENCE_GENRM_TEMPLATE;
  const report = run.report ?? ((m: string) => process.stderr.write(`${m}\n`));
  const served = writeReferenceRewardConfig(run.runDir.dir, template, run.model.vocabSize);
  const judgeConfig = (await loadRewardConfig(served.configPath)).judges["genrm"]!;
  const backend = await servingBackend(run.model, run.tokenizer, basename(run.runDir.modelDir));
  // The judge the reward config describes, over the live model (it reads the template file).
  const judge = await makeJudge("genrm", judgeConfig, { openBackend: async () => backend });
  try {
    const maxLen = run.model.maxSeqLen;
    const train = await fitting(run.train, template, backend, maxLen, report);
    const held = await fitting(run.eval ?? [], template, backend, maxLen, report);
    if (train.length === 0)
      throw new DataScaleError("bad_data", `no training judgement fits the model (maxSeqLen ${maxLen})`);
    let last: ReferenceEval | undefined;
    const evaluate = async (): Promise<ReferenceEval> => {
      last = await judgeEval(
        judge,
        held.map((h) => h.judgement),
      );
      return last;
    };
    const hook: EvalHook | undefined =
      held.length === 0
        ? undefined
        : { every: run.options.evalEvery, run: async () => ({ ...(await evaluate()) }) };
    await trainSft({
      model: run.model,
      tokenizer: run.tokenizer,
      train: train.map((t) => t.example),
      eval: held.length === 0 ? undefined : held.map((h) => h.example),
      options: run.options,
      runDir: run.runDir,
      onStep: run.onStep,
      evaluate: hook,
    });
    // A resumed run with no steps left evaluated nothing: measure the final model now.
    const final = held.length === 0 ? undefined : (last ?? (await evaluate()));
    return { rewardConfig: served.configPath, trainItems: train.length, eval: final };
  } finally {
    await judge.close?.();
  }
}
