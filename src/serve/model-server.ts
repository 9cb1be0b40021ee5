// An OpenAI-compatible HTTP server over any Backend: GET /v1/models, POST /v1/completions
// and /v1/chat/completions with logprobs/top_logprobs, n, stop, seed and SSE streaming.
// node:http rather than Fastify: three routes whose bodies zod already validates, and SSE
// needs the raw response either way, so a framework would add a dependency and little else.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type {
  Backend,
  Completion,
  CompletionDelta,
  GeneratedToken,
  GenerateRequest,
  GenerateResult,
  ScoredToken,
  TokenLogprobInfo,
} from "../backend/types.ts";
import { DataScaleError, errorMessage } from "../core/errors.ts";

export interface ModelServerOptions {
  backend: Backend;
  host?: string | undefined;
  /** 0 picks a free port. */
  port?: number | undefined;
  /** Largest request body accepted (default 4 MiB). */
  bodyLimitBytes?: number | undefined;
  /** Largest `n` accepted (default 64). */
  maxN?: number | undefined;
  /** Receives one structured record per request. */
  log?: ((record: Record<string, unknown>) => void) | undefined;
}

export interface RunningModelServer {
  /** Base URL including /v1, e.g. http://127.0.0.1:41234/v1 */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Rejects a sampling knob we do not implement unless it is left at its neutral value. */
const neutral = (name: string, isNeutral: (v: unknown) => boolean) =>
  z
    .unknown()
    .optional()
    .refine((v) => v === undefined || v === null || isNeutral(v), {
      message: `${name} is not supported by this server`,
    });

function commonFields(maxN: number) {
  return {
    model: z.string().optional(),
    max_tokens: z.number().int().nonnegative().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    top_k: z.number().int().min(-1).nullish(),
    n: z.number().int().min(1).max(maxN).nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
    seed: z.number().int().nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
    presence_penalty: neutral("presence_penalty", (v) => v === 0),
    frequency_penalty: neutral("frequency_penalty", (v) => v === 0),
    repetition_penalty: neutral("repetition_penalty", (v) => v === 1),
    logit_bias: neutral("logit_bias", (v) => typeof v === "object" && Object.keys(v as object).length === 0),
    tools: neutral("tools", (v) => Array.isArray(v) && v.length === 0),
  };
}

function completionSchema(maxN: number) {
  return z.object({
    ...commonFields(maxN),
    prompt: z.union([z.string(), z.array(z.string()).min(1)], {
      error: "must be a string or a non-empty array of strings (token-id prompts are not supported)",
    }),
    logprobs: z.number().int().min(0).max(20).nullish(),
    echo: z.boolean().nullish(),
    best_of: z.number().int().nullish(),
    suffix: neutral("suffix", (v) => v === ""),
  });
}

const ContentPart = z.object({ type: z.literal("text"), text: z.string() });
const Message = z.object({
  role: z.enum(["system", "user", "assistant", "tool", "developer"]),
  content: z
    .union([z.string(), z.array(ContentPart)])
    .transform((c) => (typeof c === "string" ? c : c.map((p) => p.text).join(""))),
});

function chatSchema(maxN: number) {
  return z.object({
    ...commonFields(maxN),
    messages: z.array(Message).min(1),
    max_completion_tokens: z.number().int().nonnegative().nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
  });
}

class HttpError extends Error {
  readonly status: number;
  readonly param: string | undefined;
  readonly type: string;
  constructor(status: number, message: string, options: { param?: string | undefined; type?: string } = {}) {
    super(message);
    this.status = status;
    this.param = options.param;
    this.type = options.type ?? (status >= 500 ? "server_error" : "invalid_request_error");
  }
}

function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = issue.path.length > 0 ? issue.path.map(String).join(".") : undefined;
  const message = parsed.error.issues
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join(".") : "body"}: ${i.message}`)
    .join("; ");
  throw new HttpError(400, message, { param });
}

async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `body is not valid JSON: ${errorMessage(error)}`);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function statusOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof DataScaleError) {
    if (
      ["bad_request", "prompt_too_long", "no_chat_template", "bad_chat_template", "unsupported"].includes(
        error.code,
      )
    ) {
      return new HttpError(400, error.message);
    }
    if (error.code.startsWith("http_")) return new HttpError(502, error.message, { type: "upstream_error" });
  }
  return new HttpError(500, errorMessage(error));
}

/** Completions-style logprobs: parallel arrays, offsets into the returned text. */
function completionLogprobs(
  tokens: readonly (GeneratedToken | ScoredToken)[],
  top: number,
  startOffset: number,
) {
  let offset = startOffset;
  const textOffset: number[] = [];
  for (const t of tokens) {
    textOffset.push(offset);
    offset += t.token.length;
  }
  return {
    tokens: tokens.map((t) => t.token),
    token_logprobs: tokens.map((t) => t.logprob),
    top_logprobs:
      top > 0 ? tokens.map((t) => (t.topLogprobs === undefined ? null : topRecord(t.topLogprobs))) : null,
    text_offset: textOffset,
  };
}

function topRecord(top: readonly TokenLogprobInfo[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of top) if (!(t.token in out)) out[t.token] = t.logprob;
  return out;
}

function bytesOf(t: TokenLogprobInfo): number[] {
  return t.bytes ?? [...new TextEncoder().encode(t.token)];
}

function chatLogprobs(tokens: readonly GeneratedToken[], top: number) {
  return {
    content: tokens.map((t) => ({
      token: t.token,
      logprob: t.logprob,
      bytes: bytesOf(t),
      top_logprobs:
        top > 0
          ? (t.topLogprobs ?? []).map((a) => ({ token: a.token, logprob: a.logprob, bytes: bytesOf(a) }))
          : [],
    })),
  };
}

function usage(results: readonly GenerateResult[]) {
  const prompt = results.reduce((a, r) => a + r.promptTokens, 0);
  const completion = results.reduce((a, r) => a + r.completionTokens, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

interface Sse {
  send(data: unknown): void;
  end(): void;
}

function openSse(res: ServerResponse): Sse {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  return {
    send: (data) => res.write(`data: ${JSON.stringify(data)}\n\n`),
    end: () => res.end("data: [DONE]\n\n"),
  };
}

export function createModelServerHandler(options: ModelServerOptions) {
  const { backend } = options;
  const limit = options.bodyLimitBytes ?? 4 * 1024 * 1024;
  const maxN = options.maxN ?? 64;
  const CompletionRequest = completionSchema(maxN);
  const ChatRequest = chatSchema(maxN);

  function checkModel(model: string | undefined): void {
    if (model !== undefined && model !== backend.model) {
      throw new HttpError(404, `model '${model}' does not exist; this server serves '${backend.model}'`, {
        param: "model",
      });
    }
  }

  function baseRequest(
    body: z.infer<typeof CompletionRequest> | z.infer<typeof ChatRequest>,
  ): GenerateRequest {
    const stop = body.stop == null ? undefined : typeof body.stop === "string" ? [body.stop] : body.stop;
    return {
      n: body.n ?? 1,
      temperature: body.temperature ?? undefined,
      topP: body.top_p ?? undefined,
      topK: body.top_k != null && body.top_k > 0 ? body.top_k : undefined,
      seed: body.seed ?? undefined,
      stop,
    };
  }

  async function completions(body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const req = validate(CompletionRequest, body);
    checkModel(req.model);
    const n = req.n ?? 1;
    if (req.best_of != null && req.best_of !== n) {
      throw new HttpError(400, "best_of: only best_of equal to n is supported", { param: "best_of" });
    }
    if (req.echo && req.stream)
      throw new HttpError(400, "echo: not supported together with stream", { param: "echo" });
    const prompts = typeof req.prompt === "string" ? [req.prompt] : req.prompt;
    const top = req.logprobs ?? 0;
    const wantLogprobs = req.logprobs != null;
    const requests = prompts.map((prompt) => ({
      ...baseRequest(req),
      prompt,
      // OpenAI's default for /v1/completions.
      maxTokens: req.max_tokens ?? 16,
      logprobs: wantLogprobs,
      topLogprobs: top,
    }));
    const id = `cmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const head = { id, object: "text_completion", created, model: backend.model };
    if (req.stream) {
      const sse = openSse(res);
      const results = await backend.generate(requests, {
        signal,
        onDelta: (p, c, delta: CompletionDelta) => {
          sse.send({
            ...head,
            choices: [
              {
                index: p * n + c,
                text: delta.text,
                logprobs: wantLogprobs ? completionLogprobs(delta.tokens ?? [], top, 0) : null,
                finish_reason: delta.finishReason ?? null,
              },
            ],
          });
        },
      });
      if (req.stream_options?.include_usage) sse.send({ ...head, choices: [], usage: usage(results) });
      sse.end();
      return;
    }
    const echoed = req.echo
      ? await backend.score(
          prompts.map((prompt) => ({ prompt: "", continuation: prompt, topLogprobs: top })),
          { signal },
        )
      : undefined;
    const results = await backend.generate(requests, { signal });
    const choices = results.flatMap((r, p) =>
      r.completions.map((c: Completion, j) => {
        const prefix = echoed === undefined ? "" : prompts[p]!;
        const promptTokens: (GeneratedToken | ScoredToken)[] = echoed?.[p]?.tokens ?? [];
        return {
          index: p * n + j,
          text: prefix + c.text,
          logprobs: wantLogprobs ? completionLogprobs([...promptTokens, ...(c.tokens ?? [])], top, 0) : null,
          finish_reason: c.finishReason,
        };
      }),
    );
    sendJson(res, 200, { ...head, choices, usage: usage(results) });
  }

  async function chat(body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const req = validate(ChatRequest, body);
    checkModel(req.model);
    const top = req.top_logprobs ?? 0;
    if (top > 0 && !req.logprobs) {
      throw new HttpError(400, "top_logprobs: requires logprobs to be true", { param: "top_logprobs" });
    }
    const request: GenerateRequest = {
      ...baseRequest(req),
      messages: req.messages,
      maxTokens: req.max_completion_tokens ?? req.max_tokens ?? undefined,
      logprobs: req.logprobs ?? false,
      topLogprobs: top,
    };
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const head = { id, object: "chat.completion.chunk", created, model: backend.model };
    if (req.stream) {
      const sse = openSse(res);
      const started = new Set<number>();
      const [result] = await backend.generate([request], {
        signal,
        onDelta: (_p, c, delta) => {
          if (!started.has(c)) {
            started.add(c);
            sse.send({
              ...head,
              choices: [
                { index: c, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
              ],
            });
          }
          sse.send({
            ...head,
            choices: [
              {
                index: c,
                delta: delta.text.length > 0 ? { content: delta.text } : {},
                logprobs: req.logprobs ? chatLogprobs(delta.tokens ?? [], top) : null,
                finish_reason: delta.finishReason ?? null,
              },
            ],
          });
        },
      });
      if (req.stream_options?.include_usage) sse.send({ ...head, choices: [], usage: usage([result!]) });
      sse.end();
      return;
    }
    const [result] = await backend.generate([request], { signal });
    sendJson(res, 200, {
      id,
      object: "chat.completion",
      created,
      model: backend.model,
      choices: result!.completions.map((c, index) => ({
        index,
        message: { role: "assistant", content: c.text },
        logprobs: req.logprobs ? chatLogprobs(c.tokens ?? [], top) : null,
        finish_reason: c.finishReason,
      })),
      usage: usage([result!]),
    });
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? "/").split("?")[0]!;
    // Stop generating for a client that went away before its answer was complete.
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished)
        abort.abort(new DataScaleError("client_closed", "the client closed the connection"));
    });
    try {
      if (path === "/v1/models" || path === "/health") {
        if (req.method !== "GET") throw new HttpError(405, `${path} takes GET`);
        if (path === "/health") sendJson(res, 200, { status: "ok" });
        else
          sendJson(res, 200, {
            object: "list",
            data: [{ id: backend.model, object: "model", created: 0, owned_by: "datascale" }],
          });
      } else if (path === "/v1/completions" || path === "/v1/chat/completions") {
        if (req.method !== "POST") throw new HttpError(405, `${path} takes POST`);
        const body = await readBody(req, limit);
        if (path === "/v1/completions") await completions(body, res, abort.signal);
        else await chat(body, res, abort.signal);
      } else throw new HttpError(404, `no route ${req.method} ${path}`);
    } catch (error) {
      const http = statusOf(error);
      if (!res.headersSent) {
        sendJson(res, http.status, {
          error: { message: http.message, type: http.type, param: http.param ?? null, code: null },
        });
      } else if (!res.writableEnded) {
        // Mid-stream: report in-band, then end the stream.
        res.end(`data: ${JSON.stringify({ error: { message: http.message, type: http.type } })}\n\n`);
      }
    } finally {
      options.log?.({
        method: req.method,
        path,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      });
    }
  };
}

export async function startModelServer(options: ModelServerOptions): Promise<RunningModelServer> {
  const handle = createModelServerHandler(options);
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}/v1`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
