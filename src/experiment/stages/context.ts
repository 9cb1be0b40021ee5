// What a seed's stages share: its settings, directories, kernel and world, and lazy handles
// on what earlier stages left on disk (SFT samples, tasks with their Best-of-N references,
// the trained models, the reward system) — each read back through its schema.
import { join } from "node:path";
import { z } from "zod";
import type { EmbeddedBackend } from "../../backend/embedded.ts";
import type { PromptInput } from "../../backend/types.ts";
import type { RewardFn, Task } from "../../core/schemas.ts";
import { Task as TaskSchema } from "../../core/schemas.ts";
import { readJsonlAll } from "../../io/jsonl.ts";
import type { Decoder } from "../../model/decoder.ts";
import type { Kernel } from "../../model/kernels/types.ts";
import type { Tokenizer } from "../../model/types.ts";
import { byteTokenizer, loadDecoder } from "../../train/models.ts";
import { hasJudgeSft, type SeedConfig } from "../config.ts";
import { worldBackendOpener } from "../judge-models.ts";
import { openSeedRewards, type SeedRewards } from "../reward-config.ts";
import { buildWorld, goldAnswer, goldRewardFn, nearMisses, type SetName } from "../world.ts";

/** One stage of a seed: a function whose result is validated, recorded in state.json and checked on resume. */
export interface Stage<T> {
  name: string;
  /** The progress line's description. */
  what: (config: SeedConfig) => string;
  result: z.ZodType<T>;
  run: (ctx: SeedContext) => Promise<T>;
}

/** A line of data/samples-<set>.jsonl: the K SFT samples of one task. */
export const SampleRecord = z.object({ id: z.union([z.string(), z.number()]), samples: z.array(z.string()) });
export type SampleRecord = z.infer<typeof SampleRecord>;

export class SeedContext {
  readonly config: SeedConfig;
  readonly dir: string;
  readonly kernel: Kernel;
  readonly log: (line: string) => void;
  readonly tokenizer: Tokenizer = byteTokenizer();
  readonly world: Record<SetName, Task[]>;
  /** The gold score: the family verifier, in-process (a measurement, not a reward). */
  readonly gold: RewardFn = goldRewardFn();
  readonly #samples = new Map<SetName, Promise<Map<string, string[]>>>();
  readonly #refs = new Map<SetName, Promise<Task[]>>();
  #rewards: Promise<SeedRewards> | undefined;
  #sft: Decoder | undefined;
  #encoder: Promise<EmbeddedBackend> | undefined;
  readonly #ppo = new Map<string, { decoder: Decoder; initial: Float32Array }>();

  constructor(o: { config: SeedConfig; dir: string; kernel: Kernel; log: (line: string) => void }) {
    this.config = o.config;
    this.dir = o.dir;
    this.kernel = o.kernel;
    this.log = o.log;
    this.world = buildWorld(o.config);
  }

  data(name: string): string {
    return join(this.dir, "data", name);
  }

  /** models/<name>/{model (trainer format), hf (Hugging Face layout)} and the trainer's run directory. */
  model(name: "sft" | "judge-sft" | "bt" | "genrm"): { root: string; engine: string; hf: string } {
    const root = join(this.dir, "models", name);
    return { root, engine: join(root, "model"), hf: join(root, "hf") };
  }

  samplesPath(set: SetName): string {
    return this.data(`samples-${set}.jsonl`);
  }

  refsPath(set: SetName): string {
    return this.data(`${set}-refs.jsonl`);
  }

  /** The SFT samples of a set by task id (read once; several stages use them). */
  samples(set: SetName): Promise<Map<string, string[]>> {
    let read = this.#samples.get(set);
    if (read === undefined) {
      read = readJsonlAll(this.samplesPath(set), SampleRecord).then(
        (rs) => new Map(rs.map((r) => [String(r.id), r.samples])),
      );
      this.#samples.set(set, read);
    }
    return read;
  }

  /** A set's tasks with their Best-of-N reference in reference.response (stage `references`). */
  withRefs(set: "original" | "pool" | "eval"): Promise<Task[]> {
    let read = this.#refs.get(set);
    if (read === undefined) {
      read = readJsonlAll(this.refsPath(set), TaskSchema);
      this.#refs.set(set, read);
    }
    return read;
  }

  /** The trainer-format model the judges start from: the judges' own SFT when it is longer. */
  judgeBase(): string {
    return this.model(hasJudgeSft(this.config) ? "judge-sft" : "sft").engine;
  }

  /** The SFT policy (stage `sft`). */
  sft(): Decoder {
    this.#sft ??= loadDecoder(this.model("sft").engine, {}, this.config.seed, this.kernel);
    return this.#sft;
  }

  /**
   * Token ids of a judge's input exactly as its serving backend makes them (the SFT model
   * directory has the world's tokenizer and chat template, which every judge inherits).
   */
  async encode(input: PromptInput): Promise<number[]> {
    this.#encoder ??= worldBackendOpener(this.kernel)({ type: "embedded", model: this.model("sft").hf }).then(
      (b) => b as EmbeddedBackend,
    );
    return (await this.#encoder).encodeInput(input);
  }

  /**
   * A PPO role's decoder, reset to the SFT model as saved: created once per role and reused
   * by every run of the seed, since the kernel's memory is never given back. Its parameters
   * are all a run reads from it (gradients are zeroed each step, buffers are overwritten).
   */
  ppoDecoder(role: string, heads: { valueHead: boolean }): Decoder {
    const key = `${role}:${heads.valueHead}`;
    let entry = this.#ppo.get(key);
    if (entry === undefined) {
      const decoder = loadDecoder(this.model("sft").engine, heads, this.config.seed, this.kernel);
      entry = { decoder, initial: Float32Array.from(decoder.params) };
      this.#ppo.set(key, entry);
    }
    entry.decoder.params.set(entry.initial);
    return entry.decoder;
  }

  /** The seed's reward system, opened from its reward.yaml once both judges exist. */
  rewards(): Promise<SeedRewards> {
    this.#rewards ??= openSeedRewards(this.dir, this.kernel);
    return this.#rewards;
  }

  async close(): Promise<void> {
    if (this.#rewards !== undefined) await (await this.#rewards).close();
    if (this.#encoder !== undefined) await (await this.#encoder).close();
  }
}

/** Mean of a list; 0 for an empty one (a domain with nothing to average reports 0, not NaN). */
export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** Gold scores of several responses to one task. */
export async function goldOf(ctx: SeedContext, task: Task, responses: readonly string[]): Promise<number[]> {
  const rewards = await ctx.gold(responses.map((response) => ({ ...task, response })));
  return rewards.map((r) => (r.verdict === "error" ? Number.NaN : r.score));
}

/** The candidates of a prompt: its SFT samples, the truth and two near misses, distinct. */
export async function candidates(ctx: SeedContext, set: SetName, t: Task): Promise<string[]> {
  const truth = goldAnswer(t);
  const samples = (await ctx.samples(set)).get(String(t.id)) ?? [];
  return [...new Set([...samples, truth, ...nearMisses(truth, String(t.id))])];
}
