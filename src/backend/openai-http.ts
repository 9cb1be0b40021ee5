// A Backend over any OpenAI-compatible server (vLLM, SGLang, llama.cpp, OpenAI, our own
// `datascale serve-model`): bounded concurrency, retries with exponential backoff and
// jitter on transient failures, a timeout per attempt, and every response checked by zod.
import { z } from "zod";
import { DataScaleError, errorMessage, formatZodError } from "../core/errors.ts";
import { ConcurrencyLimit } from "./limit.ts";
import type {
  Backend,
  Completion,
  CompletionDelta,
  FinishReason,
  GeneratedToken,
  GenerateOptions,
  GenerateRequest,
  GenerateResult,
  ScoredToken,
  ScoreRequest,
  ScoreResult,
  TokenLogprobInfo,
} from "./types.ts";

export interface OpenAIBackendOptions {
  /** e.g. http://127.0.0.1:8000/v1 */
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
  /** Requests in flight at once (default 8). */
  concurrency?: number | undefined;
  /** Retries after the first attempt (default 3). */
  maxRetries?: number | undefined;
  /** Per attempt, until the response is complete (default 120 s). */
  timeoutMs?: number | undefined;
  /** First backoff; doubles each retry, with full jitter, capped by maxBackoffMs (defaults 250 ms, 8 s). */
  backoffMs?: number | undefined;
  maxBackoffMs?: number | undefined;
  headers?: Record<string, string> | undefined;
  /**
   * Whether the server takes `n` > 1 (default true). When false (llama.cpp's server), a
   * request for n completions is sent as n requests with n = 1 and seeds seed, seed + 1, …,
   * the same seeds our embedded backend gives completion i.
   */
  nativeN?: boolean | undefined;
}

const Usage = z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int() }).nullish();
const TopLogprob = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.number().int()).nullish(),
});
const ChatLogprobs = z
  .object({
    content: z.array(TopLogprob.extend({ top_logprobs: z.array(TopLogprob).nullish() })).nullish(),
  })
  .nullish();
const CompletionLogprobs = z
  .object({
    tokens: z.array(z.string()),
    token_logprobs: z.array(z.number().nullable()),
    top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullish(),
    text_offset: z.array(z.number().int()).nullish(),
  })
  .nullish();
const FinishReasonSchema = z.string().nullish();

const CompletionResponse = z.object({
  choices: z.array(
    z.object({
      index: z.number().int(),
      text: z.string(),
      logprobs: CompletionLogprobs,
      finish_reason: FinishReasonSchema,
    }),
  ),
  usage: Usage,
});
const ChatResponse = z.object({
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ content: z.string().nullish() }),
      logprobs: ChatLogprobs,
      finish_reason: FinishReasonSchema,
    }),
  ),
  usage: Usage,
});
const CompletionChunk = z.object({
  choices: z.array(
    z.object({
      index: z.number().int(),
      text: z.string(),
      logprobs: CompletionLogprobs,
      finish_reason: FinishReasonSchema,
    }),
  ),
  usage: Usage,
});
const ChatChunk = z.object({
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ content: z.string().nullish() }),
      logprobs: ChatLogprobs,
      finish_reason: FinishReasonSchema,
    }),
  ),
  usage: Usage,
});
const ErrorBody = z.object({ error: z.object({ message: z.string() }) });

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/** An HTTP failure; `retryable` says whether another attempt may succeed. */
export class HttpBackendError extends DataScaleError {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    details: {
      status?: number | undefined;
      retryable: boolean;
      retryAfterMs?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(details.status === undefined ? "http_unreachable" : `http_${details.status}`, message, {
      cause: details.cause,
    });
    this.status = details.status;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }
}

function finish(reason: string | null | undefined): FinishReason {
  return reason === "length" ? "length" : "stop";
}

function chatTokens(logprobs: z.infer<typeof ChatLogprobs>): GeneratedToken[] | undefined {
  if (logprobs?.content == null) return undefined;
  return logprobs.content.map((t) => ({
    token: t.token,
    logprob: t.logprob,
    bytes: t.bytes ?? undefined,
    topLogprobs: t.top_logprobs?.map((a) => ({
      token: a.token,
      logprob: a.logprob,
      bytes: a.bytes ?? undefined,
    })),
  }));
}

function completionTokens(logprobs: z.infer<typeof CompletionLogprobs>): GeneratedToken[] | undefined {
  if (logprobs == null) return undefined;
  return logprobs.tokens.map((token, i) => ({
    token,
    logprob: logprobs.token_logprobs[i] ?? 0,
    topLogprobs: topFromRecord(logprobs.top_logprobs?.[i]),
  }));
}

function topFromRecord(record: Record<string, number> | null | undefined): TokenLogprobInfo[] | undefined {
  if (record == null) return undefined;
  return Object.entries(record)
    .map(([token, logprob]) => ({ token, logprob }))
    .sort((a, b) => b.logprob - a.logprob);
}

export class OpenAIBackend implements Backend {
  readonly model: string;
  readonly #baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #limit: ConcurrencyLimit;
  readonly #maxRetries: number;
  readonly #timeoutMs: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #headers: Record<string, string>;
  readonly #closing = new AbortController();
  readonly #nativeN: boolean;

  constructor(options: OpenAIBackendOptions) {
    this.model = options.model;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#limit = new ConcurrencyLimit(options.concurrency ?? 8);
    this.#maxRetries = options.maxRetries ?? 3;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#backoffMs = options.backoffMs ?? 250;
    this.#maxBackoffMs = options.maxBackoffMs ?? 8000;
    this.#headers = options.headers ?? {};
    this.#nativeN = options.nativeN ?? true;
  }

  /** Requests currently holding a concurrency slot. */
  get inFlight(): number {
    return this.#limit.active;
  }

  generate(requests: readonly GenerateRequest[], options: GenerateOptions = {}): Promise<GenerateResult[]> {
    return Promise.all(
      requests.map(async (r, i) => {
        const onDelta = options.onDelta;
        const n = r.n ?? 1;
        if (this.#nativeN || n === 1) {
          return this.#limit.run(() =>
            this.#generateOne(r, options.signal, onDelta && ((c, d) => onDelta(i, c, d))),
          );
        }
        const parts = await Promise.all(
          Array.from({ length: n }, (_, c) =>
            this.#limit.run(() =>
              this.#generateOne(
                { ...r, n: 1, seed: r.seed === undefined ? undefined : (r.seed + c) >>> 0 },
                options.signal,
                onDelta && ((_one, d) => onDelta(i, c, d)),
              ),
            ),
          ),
        );
        return {
          completions: parts.map((p) => p.completions[0]!),
          promptTokens: parts[0]!.promptTokens,
          completionTokens: parts.reduce((a, p) => a + p.completionTokens, 0),
        };
      }),
    );
  }

  #body(r: GenerateRequest, stream: boolean): Record<string, unknown> {
    if ((r.prompt === undefined) === (r.messages === undefined)) {
      throw new DataScaleError("bad_request", "give exactly one of prompt and messages");
    }
    const body: Record<string, unknown> = { model: this.model, n: r.n ?? 1 };
    if (r.maxTokens !== undefined) body["max_tokens"] = r.maxTokens;
    if (r.temperature !== undefined) body["temperature"] = r.temperature;
    if (r.topP !== undefined) body["top_p"] = r.topP;
    if (r.topK !== undefined && r.topK > 0) body["top_k"] = r.topK;
    if (r.seed !== undefined) body["seed"] = r.seed;
    if (r.stop !== undefined && r.stop.length > 0) body["stop"] = r.stop;
    const wantLogprobs = r.logprobs === true || (r.topLogprobs ?? 0) > 0;
    if (r.messages !== undefined) {
      body["messages"] = r.messages;
      if (wantLogprobs) {
        body["logprobs"] = true;
        if ((r.topLogprobs ?? 0) > 0) body["top_logprobs"] = r.topLogprobs;
      }
    } else {
      body["prompt"] = r.prompt;
      if (wantLogprobs) body["logprobs"] = r.topLogprobs ?? 0;
    }
    if (stream) body["stream"] = true;
    return body;
  }

  async #generateOne(
    r: GenerateRequest,
    signal: AbortSignal | undefined,
    onDelta: ((completion: number, delta: CompletionDelta) => void) | undefined,
  ): Promise<GenerateResult> {
    const chat = r.messages !== undefined;
    const path = chat ? "/chat/completions" : "/completions";
    const n = r.n ?? 1;
    if (onDelta !== undefined) return this.#stream(path, this.#body(r, true), chat, n, signal, onDelta);
    const json = await this.#post(path, this.#body(r, false), signal);
    const completions: Completion[] = new Array(n);
    let usage: z.infer<typeof Usage>;
    if (chat) {
      const parsed = this.#parse(ChatResponse, json, path);
      usage = parsed.usage;
      for (const c of parsed.choices) {
        completions[c.index] = {
          text: c.message.content ?? "",
          finishReason: finish(c.finish_reason),
          tokens: chatTokens(c.logprobs),
        };
      }
    } else {
      const parsed = this.#parse(CompletionResponse, json, path);
      usage = parsed.usage;
      for (const c of parsed.choices) {
        completions[c.index] = {
          text: c.text,
          finishReason: finish(c.finish_reason),
          tokens: completionTokens(c.logprobs),
        };
      }
    }
    return this.#result(completions, n, usage, path);
  }

  #result(completions: Completion[], n: number, usage: z.infer<typeof Usage>, path: string): GenerateResult {
    for (let i = 0; i < n; i++) {
      if (completions[i] === undefined) {
        throw new DataScaleError(
          "bad_response",
          `${this.#baseUrl}${path}: response has no choice ${i} (asked for n=${n})`,
        );
      }
    }
    return {
      completions: completions.slice(0, n),
      promptTokens: usage?.prompt_tokens ?? 0,
      completionTokens: usage?.completion_tokens ?? 0,
    };
  }

  #parse<T>(schema: z.ZodType<T>, json: unknown, path: string): T {
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new DataScaleError(
        "bad_response",
        `${this.#baseUrl}${path}: unexpected response: ${formatZodError(parsed.error)}`,
      );
    }
    return parsed.data;
  }

  async #stream(
    path: string,
    body: Record<string, unknown>,
    chat: boolean,
    n: number,
    signal: AbortSignal | undefined,
    onDelta: (completion: number, delta: CompletionDelta) => void,
  ): Promise<GenerateResult> {
    body["stream_options"] = { include_usage: true };
    const completions: Completion[] = new Array(n);
    let usage: z.infer<typeof Usage>;
    // Retries happen only before the first byte: a half-streamed answer cannot be replayed.
    await this.#withRetries(path, body, signal, async (response) => {
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let delivered = false;
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (!delivered) throw error;
          // Deltas already went to the caller; a retry would send them twice.
          throw new DataScaleError(
            "stream_interrupted",
            `${this.#baseUrl}${path}: stream broke off: ${errorMessage(error)}`,
            {
              cause: error,
            },
          );
        }
        const { value, done } = chunk;
        if (done) break;
        buffer += value;
        let cut = buffer.search(/\r?\n\r?\n/);
        while (cut >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
          const data = event
            .split(/\r?\n/)
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5).trimStart())
            .join("\n");
          if (data.length > 0 && data !== "[DONE]") {
            let json: unknown;
            try {
              json = JSON.parse(data);
            } catch {
              throw new DataScaleError(
                "bad_response",
                `${this.#baseUrl}${path}: stream event is not JSON: ${data.slice(0, 200)}`,
              );
            }
            const chunk = chat
              ? this.#parse(ChatChunk, json, path)
              : this.#parse(CompletionChunk, json, path);
            usage = chunk.usage ?? usage;
            for (const c of chunk.choices) {
              const text = "delta" in c ? (c.delta.content ?? "") : c.text;
              const tokens = chat
                ? chatTokens(c.logprobs as z.infer<typeof ChatLogprobs>)
                : completionTokens(c.logprobs as z.infer<typeof CompletionLogprobs>);
              completions[c.index] ??= { text: "", finishReason: "stop", tokens: undefined };
              const target = completions[c.index]!;
              target.text += text;
              if (tokens !== undefined) target.tokens = [...(target.tokens ?? []), ...tokens];
              if (c.finish_reason != null) target.finishReason = finish(c.finish_reason);
              delivered = true;
              onDelta(c.index, {
                text,
                tokens,
                finishReason: c.finish_reason == null ? undefined : finish(c.finish_reason),
              });
            }
          }
          cut = buffer.search(/\r?\n\r?\n/);
        }
      }
    });
    return this.#result(completions, n, usage, path);
  }

  async #post(
    path: string,
    body: Record<string, unknown>,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    let json: unknown;
    await this.#withRetries(path, body, signal, async (response) => {
      const text = await response.text();
      try {
        json = JSON.parse(text);
      } catch {
        throw new DataScaleError(
          "bad_response",
          `${this.#baseUrl}${path}: response is not JSON: ${text.slice(0, 200)}`,
        );
      }
    });
    return json;
  }

  /** One POST with retries; `consume` reads the body of a 2xx response within the same timeout. */
  async #withRetries(
    path: string,
    body: Record<string, unknown>,
    signal: AbortSignal | undefined,
    consume: (response: Response) => Promise<void>,
  ): Promise<void> {
    const url = `${this.#baseUrl}${path}`;
    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(this.#timeoutMs);
      const signals = [timeout, this.#closing.signal, ...(signal === undefined ? [] : [signal])];
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(this.#apiKey === undefined ? {} : { authorization: `Bearer ${this.#apiKey}` }),
            ...this.#headers,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.any(signals),
        });
        if (!response.ok) {
          const text = await response.text().catch(() => "");
          const parsed = ErrorBody.safeParse(safeJson(text));
          const message = parsed.success ? parsed.data.error.message : text.slice(0, 300);
          const retryAfter = Number(response.headers.get("retry-after"));
          throw new HttpBackendError(`${url}: HTTP ${response.status}: ${message}`, {
            status: response.status,
            retryable: RETRYABLE_STATUS.has(response.status),
            retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
          });
        }
        await consume(response);
        return;
      } catch (raw) {
        if (signal?.aborted) throw signal.reason;
        if (this.#closing.signal.aborted) throw new DataScaleError("closed", "the backend is closed");
        const error =
          raw instanceof HttpBackendError || raw instanceof DataScaleError
            ? raw
            : new HttpBackendError(
                timeout.aborted
                  ? `${url}: no complete response within ${this.#timeoutMs} ms`
                  : `${url}: request failed: ${errorMessage(raw)}`,
                { retryable: true, cause: raw },
              );
        const retryable = error instanceof HttpBackendError && error.retryable;
        if (!retryable || attempt >= this.#maxRetries) {
          if (attempt > 0 && error instanceof HttpBackendError)
            error.message += ` (after ${attempt + 1} attempts)`;
          throw error;
        }
        const backoff = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** attempt) * Math.random();
        const wait = Math.min(
          this.#maxBackoffMs,
          Math.max(backoff, (error as HttpBackendError).retryAfterMs ?? 0),
        );
        await sleep(wait, AbortSignal.any([this.#closing.signal, ...(signal === undefined ? [] : [signal])]));
      }
    }
  }

  /**
   * Scores continuations with the classic OpenAI trick: /completions with echo, logprobs
   * and max_tokens 0, then keeps the tokens that overlap the continuation. The server
   * tokenizes prompt + continuation as one text, so a token spanning the boundary counts
   * as continuation. Chat prompts cannot be scored this way (the template is server-side).
   */
  score(
    requests: readonly ScoreRequest[],
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<ScoreResult[]> {
    return Promise.all(requests.map((r) => this.#limit.run(() => this.#scoreOne(r, options.signal))));
  }

  async #scoreOne(r: ScoreRequest, signal: AbortSignal | undefined): Promise<ScoreResult> {
    if (r.continuationIds !== undefined) {
      throw new DataScaleError(
        "unsupported",
        "the OpenAI-compatible backend scores text; continuationIds need the embedded backend",
      );
    }
    if (r.messages !== undefined || r.prompt === undefined) {
      throw new DataScaleError(
        "unsupported",
        "the OpenAI-compatible backend scores plain-text prompts only; render chat messages to text first",
      );
    }
    const body = {
      model: this.model,
      prompt: r.prompt + r.continuation,
      echo: true,
      max_tokens: 0,
      logprobs: Math.max(1, r.topLogprobs ?? 0),
    };
    const json = await this.#post("/completions", body, signal);
    const parsed = this.#parse(CompletionResponse, json, "/completions");
    const lp = parsed.choices[0]?.logprobs;
    if (lp == null) {
      throw new DataScaleError(
        "bad_response",
        `${this.#baseUrl}/completions: echo with logprobs returned no logprobs`,
      );
    }
    let offset = 0;
    const tokens: ScoredToken[] = [];
    lp.tokens.forEach((token, i) => {
      const start = lp.text_offset?.[i] ?? offset;
      offset = start + token.length;
      if (offset <= r.prompt!.length) return;
      tokens.push({
        token,
        logprob: lp.token_logprobs[i] ?? null,
        topLogprobs: (r.topLogprobs ?? 0) > 0 ? topFromRecord(lp.top_logprobs?.[i]) : undefined,
      });
    });
    return { tokens, logprob: tokens.reduce((a, t) => a + (t.logprob ?? 0), 0) };
  }

  async close(): Promise<void> {
    this.#closing.abort();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
