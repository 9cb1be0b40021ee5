// verl's reward function over HTTP: `POST /verl/compute_score` takes what verl passes to
// `compute_score(data_source, solution_str, ground_truth, extra_info)` and answers the dict
// verl's reward loop wants — the same float keys for every sample. The Python package
// (integrations/python, `datascale.verl.compute_score`) is the client.
//
// Domain and reference: `extra_info.domain` / `extra_info.reference` when given (what
// `datascale export verl` writes); else the data source's mapping (reward/data-sources.ts).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { formatZodError } from "../core/errors.ts";
import type { Reference, Rollout } from "../core/schemas.ts";
import { Reference as ReferenceSchema } from "../core/schemas.ts";
import { referenceFor, type SourceKind, VERL_SOURCE_NAMES, verlSourceKind } from "../reward/data-sources.ts";
import { type EngineRouteDeps, scoreOne, sendError, sendFloats } from "./engines.ts";
import { float, type JsonFloat } from "./json-float.ts";

export const VerlRequest = z.object({
  data_source: z.string().min(1),
  solution_str: z.string(),
  ground_truth: z.unknown(),
  extra_info: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type VerlRequest = z.infer<typeof VerlRequest>;

/** The answer; JSON floats throughout (score, acc, invalid), plus the verdict for logs. */
export interface VerlResponse {
  score: JsonFloat;
  acc: JsonFloat;
  invalid: JsonFloat;
  verdict: string;
  source: string;
}

const KINDS: readonly string[] = ["math", "code", "qa"];

export type VerlResolved =
  | { ok: true; domain: string; reference: Reference }
  | { ok: false; code: string; field: string; message: string };

/** The domain and reference of one verl sample, or the field that cannot be read. */
export function resolveVerl(req: VerlRequest): VerlResolved {
  const extra = req.extra_info ?? {};
  const domain = extra["domain"];
  if (domain !== undefined && (typeof domain !== "string" || domain === "")) {
    return {
      ok: false,
      code: "bad_request",
      field: "extra_info.domain",
      message: "expected a non-empty string",
    };
  }
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
    const d = domain ?? verlSourceKind(req.data_source);
    if (d === undefined) return unknownSource(req.data_source);
    return { ok: true, domain: d, reference: ref.data };
  }
  let kind: string | undefined = domain ?? verlSourceKind(req.data_source);
  if (kind === undefined) return unknownSource(req.data_source);
  if (!KINDS.includes(kind)) {
    return {
      ok: false,
      code: "bad_request",
      field: "extra_info.reference",
      message: `domain '${kind}' needs extra_info.reference (ground_truth maps to a reference only for ${KINDS.join(", ")})`,
    };
  }
  kind = kind as SourceKind;
  const mapped = referenceFor(kind as SourceKind, req.ground_truth);
  if (!mapped.ok)
    return { ok: false, code: "bad_ground_truth", field: mapped.field, message: mapped.message };
  return { ok: true, domain: kind, reference: mapped.reference };
}

function unknownSource(name: string): VerlResolved {
  return {
    ok: false,
    code: "unknown_data_source",
    field: "data_source",
    message:
      `'${name}' is not a data source verl's default_compute_score knows (${VERL_SOURCE_NAMES.join(", ")}, aime*); ` +
      "give extra_info.domain (math, code, qa) or extra_info.domain and extra_info.reference",
  };
}

export function registerVerl(app: FastifyInstance, deps: EngineRouteDeps): void {
  app.post("/verl/compute_score", async (req, reply) => {
    const body = VerlRequest.safeParse(req.body);
    if (!body.success) return sendError(reply, 400, "bad_request", formatZodError(body.error));
    const resolved = resolveVerl(body.data);
    if (!resolved.ok) return sendError(reply, 400, resolved.code, `${resolved.field}: ${resolved.message}`);
    const extra = body.data.extra_info ?? {};
    const question = extra["question"];
    const rollout: Rollout = {
      id: deps.nextId("verl"),
      domain: resolved.domain,
      source: body.data.data_source,
      reference: resolved.reference,
      response: body.data.solution_str,
      ...(typeof question === "string" ? { prompt: question } : {}),
    };
    const reward = await scoreOne(deps, rollout, reply);
    if (reward === undefined) return reply;
    const answer: VerlResponse = {
      score: float(reward.score),
      acc: float(reward.verdict === "correct" ? 1 : 0),
      invalid: float(reward.verdict === "invalid" ? 1 : 0),
      verdict: reward.verdict,
      source: reward.source,
    };
    return sendFloats(reply, answer);
  });
}
