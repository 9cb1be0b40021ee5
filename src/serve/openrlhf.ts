// OpenRLHF's remote reward protocol: {query, prompts, labels} → {rewards, scores, extra_logs}.
// Since OpenRLHF v0.9.1 it sends one request per sample; `query` is the chat-templated
// prompt + response decoded with special tokens kept, so the response is what follows the
// prompt, less trailing end-of-turn tokens.
import { z } from "zod";
import type { Reference, Reward, Rollout } from "../core/schemas.ts";
import { Reference as ReferenceSchema } from "../core/schemas.ts";

export const OpenRlhfRequest = z.object({
  query: z.array(z.string()),
  prompts: z.array(z.string()).optional(),
  labels: z.array(z.unknown()).optional(),
});
export type OpenRlhfRequest = z.infer<typeof OpenRlhfRequest>;

/** End-of-turn markers of common chat templates, stripped from the end of a response. */
export const END_MARKERS = [
  "<|im_end|>",
  "<|endoftext|>",
  "<|eot_id|>",
  "<|end|>",
  "</s>",
  "<end_of_turn>",
  "<eos>",
];

export function responseFromQuery(query: string, prompt: string | undefined): string {
  let response = query;
  if (prompt !== undefined && prompt.length > 0) {
    if (query.startsWith(prompt)) response = query.slice(prompt.length);
    else {
      // Tokenizer round trips can change the prompt's leading characters (BOS, spaces).
      const at = query.lastIndexOf(prompt.trimStart());
      if (at !== -1) response = query.slice(at + prompt.trimStart().length);
    }
  }
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
    if (t.startsWith("{")) {
      try {
        value = JSON.parse(t);
      } catch {
        return { ok: true, domain: defaultDomain, reference: { answer: label } };
      }
    } else {
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

export function toRollouts(
  req: OpenRlhfRequest,
  defaultDomain: string,
  nextId: () => string,
): { rollouts: Rollout[] } | { error: string } {
  const n = req.query.length;
  if (req.prompts !== undefined && req.prompts.length !== n) {
    return { error: `prompts: expected ${n} entries (one per query), got ${req.prompts.length}` };
  }
  if (req.labels !== undefined && req.labels.length !== n) {
    return { error: `labels: expected ${n} entries (one per query), got ${req.labels.length}` };
  }
  const rollouts: Rollout[] = [];
  for (let i = 0; i < n; i++) {
    const label = parseLabel(req.labels?.[i] ?? null, defaultDomain);
    if (!label.ok) return { error: `labels.${i}: ${label.error}` };
    const prompt = req.prompts?.[i];
    rollouts.push({
      id: nextId(),
      domain: label.domain,
      reference: label.reference,
      ...(prompt !== undefined ? { prompt } : {}),
      response: responseFromQuery(req.query[i] as string, prompt),
    });
  }
  return { rollouts };
}

export function toOpenRlhfResponse(rewards: Reward[]): {
  rewards: number[];
  scores: number[];
  extra_logs: Record<string, number[]>;
} {
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
