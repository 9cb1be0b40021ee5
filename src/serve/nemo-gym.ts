// A NeMo-Gym resources server (NVIDIA-NeMo/Gym nemo_gym/base_resources_server.py): what a
// NeMo-Gym agent (and so a NeMo-RL run) calls on its resources server.
//   POST /verify             BaseVerifyRequest → the request echoed with `reward: float`
//   POST /seed_session       {} (no per-rollout state)
//   POST /aggregate_metrics  {verify_responses} → AggregateMetrics (mean/max/min/median/std)
//   GET  /reverify_mode      "stateless": re-verifying a stored rollout gives the same reward
// The scored text is the assistant's output alone: the output_text parts of the `message`
// items of role assistant in `response.output` (what the OpenAI SDK's `Response.output_text`
// joins). Reasoning items, tool calls, `responses_create_params.input` and any top-level
// `output_text` field are never scored: the policy did not write them, or wrote them
// where no one reads an answer.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { HttpError } from "../core/errors.ts";
import { type Reference, Reference as ReferenceSchema, type Rollout, Verdict } from "../core/schemas.ts";
import { codeReference, mathReference } from "../reward/data-sources.ts";
import { type EngineRouteDeps, oneSample, scoreOne } from "./engines.ts";
import { Float, type ZodTypeProvider } from "./schema.ts";

const OutputItem = z.looseObject({
  type: z.string(),
  role: z.string().optional(),
  content: z.unknown().optional(),
});

export const NemoGymVerifyRequest = z.looseObject({
  responses_create_params: z.looseObject({ input: z.union([z.string(), z.array(z.unknown())]).optional() }),
  response: z.looseObject({ output: z.array(OutputItem) }),
  /** Our own task fields, when the data was written for DataScale. */
  domain: z.string().min(1).optional(),
  reference: ReferenceSchema.optional(),
});
export type NemoGymVerifyRequest = z.infer<typeof NemoGymVerifyRequest>;

/** The assistant's output text: every output_text part of its message items, joined. */
export function assistantText(response: NemoGymVerifyRequest["response"]): string {
  const parts: string[] = [];
  for (const item of response.output) {
    if (item.type !== "message" || item.role !== "assistant" || !Array.isArray(item.content)) continue;
    for (const part of item.content as unknown[]) {
      const p = part as { type?: unknown; text?: unknown };
      if (p?.type === "output_text" && typeof p.text === "string") parts.push(p.text);
    }
  }
  return parts.join("");
}

type Task =
  | { ok: true; domain: string; reference: Reference; prompt?: string; gradingMode?: string }
  | { ok: false; message: string };

function record(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

const LEGACY_IF_FIELDS = ["instruction_id_list", "prompt", "kwargs", "grading_mode"];

function instructionTask(body: Record<string, unknown>, meta: Record<string, unknown>): Task {
  // As InstructionFollowingRunRequest._migrate_legacy_metadata: top-level fields fill in what
  // verifier_metadata lacks; verifier_metadata's own values win.
  const src: Record<string, unknown> = { ...meta };
  for (const f of LEGACY_IF_FIELDS) if (!(f in src) && f in body) src[f] = body[f];
  const at = (f: string) => (f in meta ? `verifier_metadata.${f}` : f);
  const ids = src["instruction_id_list"];
  const kwargs = src["kwargs"] ?? [];
  if (!Array.isArray(ids) || !ids.every((i) => typeof i === "string")) {
    return { ok: false, message: `${at("instruction_id_list")}: expected a list of instruction ids` };
  }
  if (!Array.isArray(kwargs) || kwargs.length !== ids.length) {
    return {
      ok: false,
      message: `${at("kwargs")}: expected a list of ${ids.length} objects (one per instruction)`,
    };
  }
  const instructions = ids.map((type, i) => ({
    type,
    // NeMo-Gym drops None-valued kwargs before building each instruction.
    kwargs: Object.fromEntries(Object.entries(record(kwargs[i])).filter(([, v]) => v !== null)),
  }));
  const prompt = src["prompt"];
  const mode = src["grading_mode"];
  if (mode !== undefined && mode !== "binary" && mode !== "fraction") {
    return { ok: false, message: `${at("grading_mode")}: expected binary or fraction` };
  }
  return {
    ok: true,
    domain: "instruction",
    reference: { instructions },
    ...(typeof prompt === "string" ? { prompt } : {}),
    ...(typeof mode === "string" ? { gradingMode: mode } : {}),
  };
}

/**
 * Domain and reference from the task fields of NeMo-Gym's example resources servers. A
 * `domain` field counts only with `reference`, or when it names a domain this server
 * verifies: datasets carry descriptive `domain` labels ("physics") that are not ours.
 */
export function nemoGymTask(
  body: NemoGymVerifyRequest,
  defaultDomain: string,
  domains: readonly string[] = [],
): Task {
  if (body.reference !== undefined) {
    if (body.domain === undefined) return { ok: false, message: "domain: required with reference" };
    return { ok: true, domain: body.domain, reference: body.reference };
  }
  const meta = record(body["verifier_metadata"]);
  if ("instruction_id_list" in meta || "instruction_id_list" in body) return instructionTask(body, meta);
  if (meta["unit_tests"] !== undefined) {
    const mapped = codeReference(meta["unit_tests"], "verifier_metadata.unit_tests");
    if (!mapped.ok) return { ok: false, message: `${mapped.field}: ${mapped.message}` };
    // code_gen rewards 1 only when every test passes.
    return { ok: true, domain: "code", reference: { ...mapped.reference, scoring: "all" } };
  }
  if (body["expected_answer"] !== undefined) {
    const mapped = mathReference(body["expected_answer"], "expected_answer");
    if (!mapped.ok) return { ok: false, message: `${mapped.field}: ${mapped.message}` };
    const question = body["question"];
    return {
      ok: true,
      domain: body.domain !== undefined && domains.includes(body.domain) ? body.domain : defaultDomain,
      reference: mapped.reference,
      ...(typeof question === "string" ? { prompt: question } : {}),
    };
  }
  return {
    ok: false,
    message:
      "no task fields to verify against: expected_answer, verifier_metadata.unit_tests, " +
      "instruction_id_list/kwargs (top level or in verifier_metadata), or domain and reference",
  };
}

/** BaseVerifyResponse: the request echoed (every field kept), `reward` a float, our verdict beside it. */
export const NemoGymVerifyResponse = z.looseObject({
  reward: Float,
  datascale: z.object({ verdict: Verdict, source: z.string(), domain: z.string() }),
});

const AggregateRequest = z.object({ verify_responses: z.array(z.record(z.string(), z.unknown())) });
/** AggregateMetrics (nemo_gym/config_types.py): `stat/field` keys, as NeMo-Gym's RewardProfiler names them. */
export const AggregateResponse = z.object({
  group_level_metrics: z.array(z.record(z.string(), z.number())),
  agent_metrics: z.record(z.string(), Float),
  key_metrics: z.record(z.string(), Float),
});

function stats(values: number[]): Record<string, number> {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const mid = Math.floor(n / 2);
  const median =
    n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  // Sample standard deviation, as pandas computes it; 0 for a single value, as NeMo-Gym reports it.
  const std = n < 2 ? 0 : Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { mean, max: sorted[n - 1] as number, min: sorted[0] as number, median, std };
}

const SKIP = new Set(["_ng_task_index", "_ng_rollout_index"]);

/** `stat/field` for every numeric (or boolean) top-level field of the responses. */
function describe(rows: Record<string, unknown>[]): Record<string, number> {
  const columns = new Map<string, number[]>();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      if (SKIP.has(k)) continue;
      const x =
        typeof v === "boolean" ? Number(v) : typeof v === "number" && Number.isFinite(v) ? v : undefined;
      if (x === undefined) continue;
      const col = columns.get(k);
      if (col === undefined) columns.set(k, [x]);
      else col.push(x);
    }
  }
  const out: Record<string, number> = {};
  for (const [k, col] of columns) for (const [s, v] of Object.entries(stats(col))) out[`${s}/${k}`] = v;
  return out;
}

export function aggregateMetrics(rows: Record<string, unknown>[]) {
  if (rows.length === 0) return { group_level_metrics: [], agent_metrics: {}, key_metrics: {} };
  const byTask = new Map<number, Record<string, unknown>[]>();
  for (const row of rows) {
    const t = typeof row["_ng_task_index"] === "number" ? (row["_ng_task_index"] as number) : 0;
    const group = byTask.get(t);
    if (group === undefined) byTask.set(t, [row]);
    else group.push(row);
  }
  const group_level_metrics = [...byTask.keys()]
    .sort((a, b) => a - b)
    .map((t) => ({
      ...describe(byTask.get(t) ?? []),
      _ng_task_index: t,
      num_rollouts: byTask.get(t)?.length ?? 0,
    }));
  const agent_metrics = describe(rows);
  const key_metrics = Object.fromEntries(
    Object.entries(agent_metrics).filter(([k]) => k.startsWith("mean/")),
  );
  return { group_level_metrics, agent_metrics, key_metrics };
}

export function registerNemoGym(app: FastifyInstance, deps: EngineRouteDeps): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // NeMo-Gym retries connection errors only; an overload status fails the rollout, so size
  // --max-queue for the run's concurrency. 503 says "try later" to anything that does retry.
  routes.post(
    "/verify",
    {
      schema: { body: NemoGymVerifyRequest, response: { 200: NemoGymVerifyResponse } },
      config: oneSample(503),
    },
    async (req) => {
      const task = nemoGymTask(req.body, deps.defaultDomain, deps.domains);
      if (!task.ok) throw new HttpError(422, "bad_task", task.message);
      const rollout: Rollout = {
        id: deps.nextId("nemo-gym"),
        domain: task.domain,
        reference: task.reference,
        response: assistantText(req.body.response),
        ...(task.prompt !== undefined ? { prompt: task.prompt } : {}),
      };
      const reward = await scoreOne(deps, rollout, "response.output");
      // instruction_following's default grading_mode is binary: every instruction followed.
      const binary = task.domain === "instruction" && task.gradingMode !== "fraction";
      return {
        ...req.body,
        reward: binary ? (reward.verdict === "correct" ? 1 : 0) : reward.score,
        datascale: { verdict: reward.verdict, source: reward.source, domain: task.domain },
      };
    },
  );
  routes.post("/seed_session", { schema: { response: { 200: z.object({}) } } }, async () => ({}));
  routes.post(
    "/aggregate_metrics",
    { schema: { body: AggregateRequest, response: { 200: AggregateResponse } } },
    async (req) => aggregateMetrics(req.body.verify_responses),
  );
  // FastAPI answers the ReverifyMode enum as a JSON string; Fastify sends a string payload as
  // it is, so the handler writes the JSON text itself.
  routes.get("/reverify_mode", { schema: { response: { 200: z.string() } } }, async (_req, reply) =>
    reply.type("application/json").send(JSON.stringify("stateless")),
  );
}
