// OpenRLHF's remote reward protocol: {query, prompts, labels} → {rewards, scores, extra_logs}.
// Since OpenRLHF v0.9.1 it sends one request per sample; `query` is the chat-templated
// prompt + response decoded with special tokens kept, so the response is what follows the
// prompt, less trailing end-of-turn tokens.
//
// A long prompt is truncated from the left before generation (agent.py), and then the query
// no longer starts with the prompt. Scoring the whole query would score text the policy did
// not write (a prompt that shows `\boxed{4}` → reward 1 for "I am not sure."), so the response
// is recovered only when the prompt is a prefix of the query or a chat template's assistant
// marker is found; otherwise the sample is `invalid`.
import { z } from "zod";
import { invalidReward } from "../core/rewards.ts";
import type { Reference, Reward, Rollout } from "../core/schemas.ts";
import { Reference as ReferenceSchema } from "../core/schemas.ts";
import { Float } from "./schema.ts";

export const OpenRlhfRequest = z.object({
  query: z.array(z.string()),
  prompts: z.array(z.string()),
  labels: z.array(z.unknown()).optional(),
});
export type OpenRlhfRequest = z.infer<typeof OpenRlhfRequest>;

/** What OpenRLHF reads: `torch.tensor` of each list, so every number is a JSON float. */
export const OpenRlhfResponse = z.object({
  rewards: z.array(Float),
  scores: z.array(Float),
  extra_logs: z.record(z.string(), z.array(Float)),
});
export type OpenRlhfResponse = z.infer<typeof OpenRlhfResponse>;

/** End-of-turn markers of common chat templates, stripped from the end of a response. */
export const END_MARKERS = [
  "<|im_end|>",
  "<|endoftext|>",
  "<|eot_id|>",
  "<|end|>",
  "</s>",
  "<end_of_turn>",
  "<eos>",
  "<｜end▁of▁sentence｜>",
  "<|end_of_text|>",
  "<|end_of_role|>",
];

/**
 * The assistant-turn openers of the chat templates in use: what a template's generation
 * prompt ends with, so what follows the last one is the response.
 */
export const ASSISTANT_MARKERS = [
  "<|im_start|>assistant\n", // ChatML: Qwen, Yi, many fine-tunes
  "<|start_header_id|>assistant<|end_header_id|>\n\n", // Llama 3
  "<start_of_turn>model\n", // Gemma
  "<|start_of_role|>assistant<|end_of_role|>", // Granite
  "<｜Assistant｜>", // DeepSeek V3 / R1
  "<|assistant|>\n", // Phi-3, OLMo/Tulu
  "<|assistant|>", // GLM-4
  "[/INST]", // Llama 2, Mistral
];

/** Longest text a generation prompt may put after its assistant marker. */
const MAX_PRESET = 64;

/** Leading text a tokenizer round trip may add or drop before the prompt. */
const LEADING = /^(?:\s|<s>|<\|begin_of_text\|>|<bos>|<｜begin▁of▁sentence｜>)+/;

function stripEnd(text: string): string {
  let response = text;
  for (let changed = true; changed; ) {
    changed = false;
    const trimmed = response.trimEnd();
    for (const m of END_MARKERS) {
      if (trimmed.endsWith(m)) {
        response = trimmed.slice(0, -m.length);
        changed = true;
      }
    }
  }
  return response;
}

export type Recovered =
  | { ok: true; response: string; how: "prefix" | "marker" }
  | { ok: false; reason: string };

/** The response inside an OpenRLHF query, or why it cannot be told apart from the prompt. */
export function responseFromQuery(query: string, prompt: string): Recovered {
  if (query.startsWith(prompt))
    return { ok: true, response: stripEnd(query.slice(prompt.length)), how: "prefix" };
  const q = query.replace(LEADING, "");
  const p = prompt.replace(LEADING, "");
  if (q.startsWith(p)) return { ok: true, response: stripEnd(q.slice(p.length)), how: "prefix" };
  // The marker counts only when the prompt itself ends in that assistant turn (a generation
  // prompt, perhaps followed by a short preset such as Qwen3's empty think block): then what
  // follows its last occurrence in the query is text the policy wrote. A prompt that merely
  // quotes a marker in an example does not qualify.
  for (const m of ASSISTANT_MARKERS) {
    const inPrompt = prompt.lastIndexOf(m);
    if (inPrompt === -1 || prompt.length - inPrompt - m.length > MAX_PRESET) continue;
    const preset = prompt.slice(inPrompt + m.length);
    const at = query.lastIndexOf(m);
    if (at === -1) continue;
    let rest = query.slice(at + m.length);
    if (rest.startsWith(preset)) rest = rest.slice(preset.length);
    return { ok: true, response: stripEnd(rest), how: "marker" };
  }
  return {
    ok: false,
    reason:
      "cannot recover the response: the prompt is not a prefix of the query (was it truncated?) and no chat-template assistant marker was found",
  };
}

const LabelObject = z.object({ domain: z.string().min(1), reference: ReferenceSchema.default({}) });

/**
 * A label is a JSON-encoded `{domain, reference}` (what `datascale export openrlhf` writes),
 * the same as an object, or a plain value read as the answer in `defaultDomain`.
 */
export function parseLabel(
  label: unknown,
  defaultDomain: string,
): { ok: true; domain: string; reference: Reference } | { ok: false; error: string } {
  let value = label;
  if (typeof label === "string") {
    const t = label.trim();
    if (!t.startsWith("{")) return { ok: true, domain: defaultDomain, reference: { answer: label } };
    try {
      value = JSON.parse(t);
    } catch {
      // Not JSON: an answer that happens to start with a brace, such as the set {1, 2}.
      return { ok: true, domain: defaultDomain, reference: { answer: label } };
    }
  }
  if (typeof value === "number") return { ok: true, domain: defaultDomain, reference: { answer: value } };
  if (value === null || value === undefined) return { ok: true, domain: defaultDomain, reference: {} };
  const parsed = LabelObject.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      error: parsed.error.issues.map((i) => `${i.path.join(".") || "label"}: ${i.message}`).join("; "),
    };
  }
  return { ok: true, ...parsed.data };
}

export interface OpenRlhfBatch {
  /** One per query, in order; a query whose response cannot be recovered has its reward here already. */
  rollouts: (Rollout | Reward)[];
}

export function toRollouts(
  req: OpenRlhfRequest,
  defaultDomain: string,
  nextId: () => string,
): OpenRlhfBatch | { error: string } {
  const n = req.query.length;
  if (req.prompts.length !== n) {
    return { error: `prompts: expected ${n} entries (one per query), got ${req.prompts.length}` };
  }
  if (req.labels !== undefined && req.labels.length !== n) {
    return { error: `labels: expected ${n} entries (one per query), got ${req.labels.length}` };
  }
  const rollouts: (Rollout | Reward)[] = [];
  for (let i = 0; i < n; i++) {
    const label = parseLabel(req.labels?.[i] ?? null, defaultDomain);
    if (!label.ok) return { error: `labels.${i}: ${label.error}` };
    const prompt = req.prompts[i] as string;
    const id = nextId();
    const got = responseFromQuery(req.query[i] as string, prompt);
    if (!got.ok) {
      rollouts.push(invalidReward(id, "datascale:openrlhf", got.reason, { field: `query.${i}` }));
      continue;
    }
    rollouts.push({ id, domain: label.domain, reference: label.reference, prompt, response: got.response });
  }
  return { rollouts };
}

export function toOpenRlhfResponse(rewards: Reward[]): OpenRlhfResponse {
  const scores = rewards.map((r) => r.score);
  return {
    rewards: scores,
    scores,
    extra_logs: {
      correct: rewards.map((r) => (r.verdict === "correct" ? 1 : 0)),
      invalid: rewards.map((r) => (r.verdict === "invalid" ? 1 : 0)),
    },
  };
}
