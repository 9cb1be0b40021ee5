// Training data: SFT examples (prompt/response or chat messages) and preference pairs, read
// from JSONL with zod, encoded with a tokenizer and padded into [batch, T] blocks whose
// per-token weights mask everything but the response.
import { z } from "zod";
import { DataScaleError } from "../core/errors.ts";
import { Message } from "../core/schemas.ts";
import { readJsonl } from "../io/jsonl.ts";
import { plainChatPrompt } from "../model/tokenizer/chat-template.ts";
import type { Tokenizer } from "../model/types.ts";

export const SftRecord = z.union(
  [
    z.looseObject({ prompt: z.string(), response: z.string() }),
    z.looseObject({ messages: z.array(Message).min(2) }),
  ],
  { error: "expected string fields `prompt` and `response`, or `messages` (at least 2)" },
);
export type SftRecord = z.infer<typeof SftRecord>;

export const PreferenceRecord = z.looseObject({
  prompt: z.string(),
  chosen: z.string(),
  rejected: z.string(),
});
export type PreferenceRecord = z.infer<typeof PreferenceRecord>;

/**
 * A pointwise GenRM judgement (`genrm.format: reference`): does `response` match the
 * `reference` (be as good as it) for `prompt`? `label` is the answer the judge should give.
 */
export const ReferenceRecord = z.looseObject({
  prompt: z.string(),
  response: z.string(),
  reference: z.string(),
  label: z.boolean(),
});
export type ReferenceRecord = z.infer<typeof ReferenceRecord>;

export interface PromptResponse {
  prompt: string;
  response: string;
  /**
   * The prompt's exact token ids, when the caller has them (e.g. a judge's question as its
   * serving backend tokenizes it); otherwise BOS + the tokenized `prompt`.
   */
  promptIds?: readonly number[] | undefined;
}

/**
 * Chat messages become one prompt/response pair in the plain chat format (the chat template
 * every trained model is saved with, model/tokenizer/chat-template.ts): the turns before the
 * last assistant message are the prompt, and the loss covers that last message only.
 */
export function toPromptResponse(record: SftRecord): PromptResponse {
  if ("prompt" in record && typeof record.prompt === "string" && typeof record.response === "string")
    return { prompt: record.prompt, response: record.response };
  const messages = (record as { messages: Message[] }).messages;
  const last = messages[messages.length - 1]!;
  if (last.role !== "assistant") throw new Error("the last message must be the assistant's");
  return { prompt: plainChatPrompt(messages.slice(0, -1)), response: last.content };
}

const toStderr = (m: string): void => {
  process.stderr.write(`${m}\n`);
};

/** Reads JSONL records with `schema`; a bad line is reported with its number and skipped. */
export async function readRecords<T>(
  path: string,
  schema: z.ZodType<T>,
  onBad: (message: string) => void = toStderr,
): Promise<T[]> {
  return (await readNumberedRecords(path, schema, onBad)).map((r) => r.value);
}

/**
 * readRecords with each record's line number, for checks made after parsing that must
 * still name `file:line` (e.g. a judge question longer than the model holds).
 */
export async function readNumberedRecords<T>(
  path: string,
  schema: z.ZodType<T>,
  onBad: (message: string) => void = toStderr,
): Promise<{ line: number; value: T }[]> {
  const out: { line: number; value: T }[] = [];
  for await (const item of readJsonl(path, { schema })) {
    if (item.ok) out.push({ line: item.line, value: item.value });
    else onBad(item.error);
  }
  if (out.length === 0) throw new DataScaleError("bad_data", `${path}: no valid records`);
  return out;
}

/** A tokenized example: ids and, per id, whether it is predicted under the loss. */
export interface Encoded {
  ids: number[];
  /** loss[i] = 1 when ids[i] is a response token (or the closing EOS). */
  loss: Uint8Array;
}

export function encodeExample(tokenizer: Tokenizer, ex: PromptResponse, maxLen: number): Encoded {
  const prompt = ex.promptIds ?? [
    ...(tokenizer.bosId === undefined ? [] : [tokenizer.bosId]),
    ...tokenizer.encode(ex.prompt),
  ];
  const response = [
    ...tokenizer.encode(ex.response),
    ...(tokenizer.eosId === undefined ? [] : [tokenizer.eosId]),
  ];
  const ids = [...prompt, ...response].slice(0, maxLen);
  const loss = new Uint8Array(ids.length);
  for (let i = prompt.length; i < ids.length; i++) loss[i] = 1;
  return { ids, loss };
}

/** Next-token block: inputs ids[0..T), targets ids[1..T], weights from the loss mask. */
export interface Block {
  batch: number;
  T: number;
  inputs: Int32Array;
  targets: Int32Array;
  weights: Float32Array;
}

export function padBlock(examples: readonly Encoded[], padId: number): Block {
  const batch = examples.length;
  const T = Math.max(1, ...examples.map((e) => e.ids.length - 1));
  const inputs = new Int32Array(batch * T).fill(padId);
  const targets = new Int32Array(batch * T).fill(padId);
  const weights = new Float32Array(batch * T);
  examples.forEach((e, b) => {
    for (let t = 0; t + 1 < e.ids.length; t++) {
      inputs[b * T + t] = e.ids[t]!;
      targets[b * T + t] = e.ids[t + 1]!;
      weights[b * T + t] = e.loss[t + 1]!;
    }
  });
  return { batch, T, inputs, targets, weights };
}

/**
 * `rows` in micro-batches of similar width (at most `maxRows` each), each run at its own
 * width: a batch mixes short and long prompts, and padding every row to the longest made a
 * small model's PPO update cost 2-3x what its tokens do (padded_len 69 for responses of 3).
 */
export function widthBuckets(
  widths: readonly number[],
  rows: readonly number[],
  maxRows: number,
): number[][] {
  const sorted = [...rows].sort((a, c) => widths[a]! - widths[c]! || a - c);
  const out: number[][] = [];
  let cur: number[] = [];
  for (const r of sorted) {
    if (cur.length > 0 && (cur.length >= maxRows || widths[r]! > 1.25 * widths[cur[0]!]! + 4)) {
      out.push(cur);
      cur = [];
    }
    cur.push(r);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** The id used for padding: the tokenizer's pad/eos, else 0 (always masked out anyway). */
export function padIdOf(tokenizer: Tokenizer): number {
  return tokenizer.eosId ?? 0;
}
