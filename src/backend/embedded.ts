// The embedded Backend: our own StepModel in-process. Calls that arrive while the model is
// busy are merged into the next batch (up to `maxBatchSequences` sequences), so a server
// under concurrent load steps many sequences per forward instead of one.
import { basename } from "node:path";
import { DataScaleError } from "../core/errors.ts";
import { type Checkpoint, loadCheckpoint } from "../model/checkpoint.ts";
import { type Generation, type GenerationRequest, generate, randomSeed, score } from "../model/sample.ts";
import type { ChatTemplate } from "../model/tokenizer/chat-template.ts";
import { loadTokenizerDir } from "../model/tokenizer/load.ts";
import type { TextTokenizer } from "../model/tokenizer/types.ts";
import type { StepModel, Tokenizer } from "../model/types.ts";
import type {
  Backend,
  Completion,
  GeneratedToken,
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  PromptInput,
  ScoreRequest,
  ScoreResult,
  TokenLogprobInfo,
} from "./types.ts";

export interface EmbeddedBackendOptions {
  model: StepModel;
  tokenizer: Tokenizer;
  /** The name clients ask for. */
  name: string;
  chatTemplate?: ChatTemplate | undefined;
  /** Prompt text → ids (default: `tokenizer.encode`). Chat prompts use `tokenizer.encode` as is. */
  encodePrompt?: ((text: string) => number[]) | undefined;
  /** Ids that end a completion (default: the tokenizer's EOS). */
  stopTokenIds?: readonly number[] | undefined;
  /** Most sequences stepped together (default 64). */
  maxBatchSequences?: number | undefined;
  /** maxTokens when a request gives none (default 256). */
  defaultMaxTokens?: number | undefined;
}

/** Builds the StepModel for a loaded checkpoint; the decoder provides one. */
export type StepModelFactory = (checkpoint: Checkpoint) => StepModel | Promise<StepModel>;

interface GenerateJob {
  requests: readonly GenerateRequest[];
  options: GenerateOptions;
  resolve: (results: GenerateResult[]) => void;
  reject: (error: unknown) => void;
}

interface TokenBytesSource {
  tokenBytes(id: number): Uint8Array;
}

/** The tokenizer as generation sees it: output text leaves special tokens out, as vLLM does. */
function textView(t: Tokenizer): Tokenizer {
  const skipping = t as Partial<TextTokenizer>;
  if (typeof skipping.isSpecial !== "function") return t;
  return {
    vocabSize: t.vocabSize,
    bosId: t.bosId,
    eosId: t.eosId,
    encode: (text) => t.encode(text),
    decode: (ids) => (t as TextTokenizer).decode(ids, { skipSpecialTokens: true }),
  };
}

function hasTokenBytes(t: Tokenizer): t is Tokenizer & TokenBytesSource {
  return typeof (t as Partial<TokenBytesSource>).tokenBytes === "function";
}

export class EmbeddedBackend implements Backend {
  readonly model: string;
  readonly #step: StepModel;
  readonly #tokenizer: Tokenizer;
  readonly #outputTokenizer: Tokenizer;
  readonly #template: ChatTemplate | undefined;
  readonly #encodePrompt: (text: string) => number[];
  readonly #stopTokenIds: readonly number[];
  readonly #maxBatch: number;
  readonly #defaultMaxTokens: number;
  readonly #queue: GenerateJob[] = [];
  /** Serializes model use: the StepModel is not required to be re-entrant. */
  #busy: Promise<void> = Promise.resolve();
  #pumping = false;
  #closed = false;
  readonly #tokenText: ({ token: string; bytes: number[] | undefined } | undefined)[] = [];

  constructor(options: EmbeddedBackendOptions) {
    this.model = options.name;
    this.#step = options.model;
    this.#tokenizer = options.tokenizer;
    this.#outputTokenizer = textView(options.tokenizer);
    this.#template = options.chatTemplate;
    this.#encodePrompt = options.encodePrompt ?? ((text) => options.tokenizer.encode(text));
    const eos = options.tokenizer.eosId;
    this.#stopTokenIds = options.stopTokenIds ?? (eos === undefined ? [] : [eos]);
    this.#maxBatch = options.maxBatchSequences ?? 64;
    this.#defaultMaxTokens = options.defaultMaxTokens ?? 256;
  }

  /** Loads an HF-layout model directory; `createModel` turns its tensors into a StepModel. */
  static async fromDirectory(
    dir: string,
    createModel: StepModelFactory,
    options: Partial<Omit<EmbeddedBackendOptions, "model" | "tokenizer">> = {},
  ): Promise<EmbeddedBackend> {
    const checkpoint = await loadCheckpoint(dir);
    const loaded = await loadTokenizerDir(dir);
    const { tokenizer } = loaded;
    if (tokenizer.vocabSize > checkpoint.config.vocabSize) {
      throw new DataScaleError(
        "bad_checkpoint",
        `${dir}: tokenizer has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${checkpoint.config.vocabSize}`,
      );
    }
    const stop = new Set(checkpoint.config.eosTokenIds);
    if (tokenizer.eosId !== undefined) stop.add(tokenizer.eosId);
    return new EmbeddedBackend({
      name: basename(dir),
      chatTemplate: loaded.chatTemplate,
      encodePrompt: loaded.addSpecialTokens
        ? (text) => tokenizer.withSpecialTokens(tokenizer.encode(text))
        : (text) => tokenizer.encode(text),
      stopTokenIds: [...stop],
      ...options,
      model: await createModel(checkpoint),
      tokenizer,
    });
  }

  /**
   * The token ids this backend feeds the model for a prompt or chat messages (rendered by the
   * model's chat template): what a trainer uses so that a model is trained on exactly the
   * inputs it is later served.
   */
  encodeInput(input: PromptInput): number[] {
    return this.#promptIds(input, "input");
  }

  #promptIds(input: PromptInput, where: string): number[] {
    if ((input.prompt === undefined) === (input.messages === undefined)) {
      throw new DataScaleError("bad_request", `${where}: give exactly one of prompt and messages`);
    }
    if (input.messages !== undefined) {
      if (this.#template === undefined) {
        throw new DataScaleError("no_chat_template", `${where}: model '${this.model}' has no chat template`);
      }
      // Templates write BOS themselves, so the rendered text is encoded without specials.
      return this.#tokenizer.encode(this.#template.render(input.messages, { addGenerationPrompt: true }));
    }
    return this.#encodePrompt(input.prompt!);
  }

  #info(id: number, logprob: number): TokenLogprobInfo {
    // Each id's text and bytes are decoded once: top-logprob lists name the same ids again and again.
    let known = this.#tokenText[id];
    if (known === undefined) {
      known = {
        token: this.#tokenizer.decode([id]),
        bytes: hasTokenBytes(this.#tokenizer) ? [...this.#tokenizer.tokenBytes(id)] : undefined,
      };
      this.#tokenText[id] = known;
    }
    return {
      token: known.token,
      logprob,
      bytes: known.bytes === undefined ? undefined : [...known.bytes],
      id,
    };
  }

  #tokens(g: Pick<Generation, "tokens" | "logprobs" | "topLogprobs">): GeneratedToken[] | undefined {
    if (g.logprobs === undefined) return undefined;
    return g.tokens.map((id, i) => ({
      ...this.#info(id, g.logprobs![i]!),
      topLogprobs: g.topLogprobs?.[i]?.map((t) => this.#info(t.id, t.logprob)),
    }));
  }

  generate(requests: readonly GenerateRequest[], options: GenerateOptions = {}): Promise<GenerateResult[]> {
    if (this.#closed) return Promise.reject(new DataScaleError("closed", "the backend is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ requests, options, resolve, reject });
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const jobs: GenerateJob[] = [];
        let sequences = 0;
        while (this.#queue.length > 0) {
          const next = this.#queue[0]!;
          const size = next.requests.reduce((a, r) => a + (r.n ?? 1), 0);
          if (jobs.length > 0 && sequences + size > this.#maxBatch) break;
          jobs.push(this.#queue.shift()!);
          sequences += size;
        }
        await this.#exclusive(() => this.#runBatch(jobs));
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const previous = this.#busy;
    let release = () => {};
    this.#busy = new Promise((r) => {
      release = r;
    });
    await previous;
    try {
      return await task();
    } finally {
      release();
    }
  }

  async #runBatch(jobs: GenerateJob[]): Promise<void> {
    // Flatten jobs → requests → n completions, remembering where each sequence belongs.
    const flat: GenerationRequest[] = [];
    const owner: { job: number; request: number; completion: number }[] = [];
    const live: GenerateJob[] = [];
    for (const job of jobs) {
      try {
        job.options.signal?.throwIfAborted();
        const prepared = job.requests.map((r, i) => {
          const n = r.n ?? 1;
          if (!(Number.isInteger(n) && n >= 1))
            throw new DataScaleError("bad_request", `request ${i}: n must be ≥ 1`);
          return { ids: this.#promptIds(r, `request ${i}`), r, n };
        });
        const jobIndex = live.length;
        live.push(job);
        prepared.forEach(({ ids, r, n }, request) => {
          const seed = r.seed ?? randomSeed();
          for (let completion = 0; completion < n; completion++) {
            owner.push({ job: jobIndex, request, completion });
            flat.push({
              prompt: ids,
              params: {
                maxTokens: r.maxTokens ?? this.#defaultMaxTokens,
                temperature: r.temperature,
                topP: r.topP,
                topK: r.topK,
                seed: (seed + completion) >>> 0,
                stop: r.stop,
                stopTokenIds: this.#stopTokenIds,
                logprobs: r.logprobs,
                topLogprobs: r.topLogprobs,
              },
            });
          }
        });
      } catch (error) {
        job.reject(error);
      }
    }
    if (live.length === 0) return;
    let generations: Generation[];
    try {
      generations = await generate(this.#step, this.#outputTokenizer, flat, {
        isCancelled: (i) => live[owner[i]!.job]!.options.signal?.aborted === true,
        onDelta: (i, delta) => {
          const o = owner[i]!;
          live[o.job]!.options.onDelta?.(o.request, o.completion, {
            text: delta.text,
            tokens: this.#tokens(delta),
            finishReason: delta.finishReason,
          });
        },
      });
    } catch (error) {
      for (const job of live) job.reject(error);
      return;
    }
    const results: GenerateResult[][] = live.map((job) =>
      job.requests.map(() => ({ completions: [], promptTokens: 0, completionTokens: 0 })),
    );
    generations.forEach((g, i) => {
      const o = owner[i]!;
      const result = results[o.job]![o.request]!;
      const completion: Completion = {
        text: g.text,
        finishReason: g.finishReason,
        tokenIds: g.tokens,
        tokens: this.#tokens(g),
      };
      result.completions.push(completion);
      result.promptTokens = g.promptTokens;
      result.completionTokens += g.tokens.length;
    });
    live.forEach((job, j) => {
      if (job.options.signal?.aborted) job.reject(job.options.signal.reason);
      else job.resolve(results[j]!);
    });
  }

  score(
    requests: readonly ScoreRequest[],
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<ScoreResult[]> {
    if (this.#closed) return Promise.reject(new DataScaleError("closed", "the backend is closed"));
    return this.#exclusive(async () => {
      options.signal?.throwIfAborted();
      const prepared = requests.map((r, i) => {
        const promptIds = this.#promptIds(r, `score request ${i}`);
        const continuation =
          r.continuationIds === undefined ? this.#tokenizer.encode(r.continuation) : [...r.continuationIds];
        const bad = continuation.find(
          (id) => !(Number.isInteger(id) && id >= 0 && id < this.#step.vocabSize),
        );
        if (bad !== undefined) {
          throw new DataScaleError(
            "bad_request",
            `score request ${i}: continuationIds holds ${bad}, outside the vocabulary`,
          );
        }
        return { promptIds, continuation, topLogprobs: r.topLogprobs };
      });
      // A continuation with no context at all cannot score its first token: it gets null.
      const scorable = prepared.map((p) => {
        const tokens = [...p.promptIds, ...p.continuation];
        return { tokens, start: Math.max(1, p.promptIds.length), topLogprobs: p.topLogprobs };
      });
      const toScore = scorable.filter((s) => s.tokens.length > 0);
      const scored = await score(this.#step, toScore);
      let k = 0;
      return prepared.map((p, i) => {
        const s = scorable[i]!;
        if (s.tokens.length === 0) return { tokens: [], logprob: 0 };
        const result = scored[k++]!;
        const offset = s.start - p.promptIds.length; // 1 when the first continuation token has no context
        const tokens = p.continuation.map((id, j) => {
          const at = j - offset;
          return {
            token: this.#tokenizer.decode([id]),
            logprob: at < 0 ? null : result.logprobs[at]!,
            entropy: at < 0 ? undefined : result.entropies[at],
            id,
            topLogprobs:
              at < 0 ? undefined : result.topLogprobs?.[at]?.map((t) => this.#info(t.id, t.logprob)),
          };
        });
        return { tokens, logprob: tokens.reduce((a, t) => a + (t.logprob ?? 0), 0) };
      });
    });
  }

  /**
   * Reward-head scores of whole texts: the head's output at each text's last token. Only for
   * models with a reward head (the engine's decoder with `reward_head.*` tensors).
   */
  classify(texts: readonly string[], options: { signal?: AbortSignal | undefined } = {}): Promise<number[]> {
    if (this.#closed) return Promise.reject(new DataScaleError("closed", "the backend is closed"));
    const model = this.#step as StepModel & {
      heads?: (seqs: Int32Array[]) => Promise<{ rewards?: Float32Array | undefined }[]>;
    };
    if (typeof model.heads !== "function") {
      return Promise.reject(
        new DataScaleError("no_reward_head", `${this.model}: the model has no reward head`),
      );
    }
    const heads = model.heads.bind(model);
    return this.#exclusive(async () => {
      options.signal?.throwIfAborted();
      const seqs = texts.map((t, i) => {
        const ids = this.#tokenizer.encode(t);
        if (ids.length === 0) throw new DataScaleError("bad_request", `input.${i}: empty text`);
        if (ids.length > this.#step.maxSeqLen) {
          throw new DataScaleError(
            "bad_request",
            `input.${i}: ${ids.length} tokens, the model takes ${this.#step.maxSeqLen}`,
          );
        }
        return Int32Array.from(ids);
      });
      // At most maxBatchSequences texts per forward: a reward model's batch holds every position's activations.
      const out: Awaited<ReturnType<typeof heads>> = [];
      for (let i = 0; i < seqs.length; i += this.#maxBatch)
        out.push(...(await heads(seqs.slice(i, i + this.#maxBatch))));
      return out.map((h, i) => {
        const r = h.rewards;
        if (r === undefined)
          throw new DataScaleError("no_reward_head", `${this.model}: the model has no reward head`);
        return r[(seqs[i] as Int32Array).length - 1] as number;
      });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#busy;
  }
}
