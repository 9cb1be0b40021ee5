// verl's reward function over HTTP: `POST /v1/score` takes what verl passes to
// `compute_score(data_source, solution_str, ground_truth, extra_info)` and answers the dict
// verl's reward loop wants — the same float keys for every sample. The Python package
// (integrations/python, `datascale.verl.compute_score`) is the client.
//
// Domain and reference: `extra_info.domain` / `extra_info.reference` when given (what
// `datascale export verl` writes); else the data source's mapping (reward/data-sources.ts).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { formatZodError, HttpError } from "../core/errors.ts";
import { type Reference, Reference as ReferenceSchema, type Rollout, Verdict } from "../core/schemas.ts";
import { referenceFor, type SourceKind, VERL_SOURCE_NAMES, verlSourceKind } from "../reward/data-sources.ts";
import { type EngineRouteDeps, oneSample, scoreOne, verdictFlags } from "./engines.ts";
import { Float, type ZodTypeProvider } from "./schema.ts";

export const VerlRequest = z.object({
  data_source: z.string().min(1),
  solution_str: z.string(),
  ground_truth: z.unknown(),
  extra_info: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type VerlRequest = z.infer<typeof VerlRequest>;

/** The answer; JSON floats throughout (score, acc, invalid), plus the verdict for logs. */
export const VerlResponse = z.object({
  score: Float,
  acc: Float,
  invalid: Float,
  verdict: Verdict,
  source: z.string(),
});
export type VerlResponse = z.infer<typeof VerlResponse>;

const KINDS: readonly string[] = ["math", "code", "qa"];

export type VerlResolved =
  | { ok: true; domain: string; reference: Reference }
  | { ok: false; code: string; field: string; message: string };

/** A ground truth for a domain without a verl mapping: an object is the reference, else the answer. */
function genericReference(gt: unknown): VerlResolved | { ok: true; reference: Reference } {
  let v = gt;
  if (typeof v === "string" && v.trim().startsWith("{")) {
    try {
      v = JSON.parse(v) as unknown;
    } catch {
      // not JSON: the string is the answer
    }
  }
  if (typeof v === "string" || typeof v === "number") return { ok: true, reference: { answer: v } };
  const ref = ReferenceSchema.safeParse(v);
  if (!ref.success) {
    return { ok: false, code: "bad_ground_truth", field: "ground_truth", message: formatZodError(ref.error) };
  }
  return { ok: true, reference: ref.data };
}

/**
 * The domain and reference of one verl sample, or the field that cannot be read. The
 * domain is extra_info.domain, else the data source's (verl's names), else the data source
 * itself when it names a domain this server verifies (`domains`).
 */
export function resolveVerl(req: VerlRequest, domains: readonly string[] = []): VerlResolved {
  const extra = req.extra_info ?? {};
  const given = extra["domain"];
  if (given !== undefined && (typeof given !== "string" || given === "")) {
    return {
      ok: false,
      code: "bad_request",
      field: "extra_info.domain",
      message: "expected a non-empty string",
    };
  }
  const domain =
    given ??
    verlSourceKind(req.data_source) ??
    (domains.includes(req.data_source) ? req.data_source : undefined);
  if (domain === undefined) return unknownSource(req.data_source);
  if (extra["reference"] !== undefined) {
    const ref = ReferenceSchema.safeParse(extra["reference"]);
    if (!ref.success) {
      return {
        ok: false,
        code: "bad_request",
        field: "extra_info.reference",
        message: formatZodError(ref.error),
      };
    }
    return { ok: true, domain, reference: ref.data };
  }
  if (!KINDS.includes(domain)) {
    const generic = genericReference(req.ground_truth);
    return generic.ok ? { ok: true, domain, reference: generic.reference } : generic;
  }
  const mapped = referenceFor(domain as SourceKind, req.ground_truth);
  if (!mapped.ok)
    return { ok: false, code: "bad_ground_truth", field: mapped.field, message: mapped.message };
  return { ok: true, domain, reference: mapped.reference };
}

function unknownSource(name: string): VerlResolved {
  return {
    ok: false,
    code: "unknown_data_source",
    field: "data_source",
    message:
      `'${name}' is not a data source verl's default_compute_score knows (${VERL_SOURCE_NAMES.join(", ")}, aime*); ` +
      "nor a domain this server verifies; give extra_info.domain (and extra_info.reference for domains other than math, code, qa)",
  };
}

export function registerVerl(app: FastifyInstance, deps: EngineRouteDeps): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    "/v1/score",
    {
      schema: { body: VerlRequest, response: { 200: VerlResponse } },
      // Our Python client retries 429 with Retry-After.
      config: oneSample(429),
    },
    async (req): Promise<VerlResponse> => {
      const resolved = resolveVerl(req.body, deps.domains);
      // Data the server cannot read: 422, like every data error (core/errors.ts).
      if (!resolved.ok) throw new HttpError(422, resolved.code, `${resolved.field}: ${resolved.message}`);
      const question = req.body.extra_info?.["question"];
      const rollout: Rollout = {
        id: deps.nextId("verl"),
        domain: resolved.domain,
        source: req.body.data_source,
        reference: resolved.reference,
        response: req.body.solution_str,
        ...(typeof question === "string" ? { prompt: question } : {}),
      };
      const reward = await scoreOne(deps, rollout, "solution_str");
      return {
        score: reward.score,
        ...verdictFlags(reward),
        verdict: reward.verdict,
        source: reward.source,
      };
    },
  );
}
