// slime's `--rm-type remote_rm` (slime/rollout/rm_hub/__init__.py `remote_rm`): one
// `POST --rm-url {"prompt", "response", "label"}` per sample; slime keeps the whole JSON
// answer as the sample's reward and, with `--reward-key K`, reads `answer[K]`.
//   POST /slime       answers a bare JSON float — what slime's default (no --reward-key) needs
//   POST /slime/dict  answers {"reward", "acc", "invalid"} floats, for `--reward-key reward`
// `response` is the generated text alone (slime decodes only the response tokens), so it is
// scored as it is; the prompt is never scored. A label is what OpenRLHF labels are: a JSON
// `{"domain", "reference"}` (string or object) or a plain answer in the default domain.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { HttpError } from "../core/errors.ts";
import { Message, type Rollout } from "../core/schemas.ts";
import { type EngineRouteDeps, oneSample, scoreOne, verdictFlags } from "./engines.ts";
import { parseLabel } from "./openrlhf.ts";
import { Float, type ZodTypeProvider } from "./schema.ts";

export const SlimeRequest = z.object({
  /** `Sample.prompt`: the prompt text, or chat messages before templating. */
  prompt: z
    .union([z.string(), z.array(z.unknown())])
    .nullable()
    .optional(),
  response: z.string(),
  label: z.unknown().optional(),
});
export type SlimeRequest = z.infer<typeof SlimeRequest>;
export const SlimeDictResponse = z.object({ reward: Float, acc: Float, invalid: Float });

/** A rollout from one slime sample, or the field that cannot be read. */
export function slimeRollout(
  body: SlimeRequest,
  defaultDomain: string,
  id: string,
): { ok: true; rollout: Rollout } | { ok: false; message: string } {
  const label = parseLabel(body.label ?? null, defaultDomain);
  if (!label.ok) return { ok: false, message: `label: ${label.error}` };
  const rollout: Rollout = { id, domain: label.domain, reference: label.reference, response: body.response };
  if (typeof body.prompt === "string") rollout.prompt = body.prompt;
  else if (Array.isArray(body.prompt)) {
    const messages = z.array(Message).safeParse(body.prompt);
    if (messages.success) rollout.messages = messages.data;
  }
  return { ok: true, rollout };
}

export function registerSlime(app: FastifyInstance, deps: EngineRouteDeps): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // slime retries every failure (10 tries, backoff to 30 s), so overload may answer 429.
  const score = async (body: SlimeRequest) => {
    const built = slimeRollout(body, deps.defaultDomain, deps.nextId("slime"));
    if (!built.ok) throw new HttpError(422, "bad_label", built.message);
    return scoreOne(deps, built.rollout, "response");
  };
  routes.post(
    "/slime",
    { schema: { body: SlimeRequest, response: { 200: Float } }, config: oneSample(429) },
    async (req) => (await score(req.body)).score,
  );
  routes.post(
    "/slime/dict",
    { schema: { body: SlimeRequest, response: { 200: SlimeDictResponse } }, config: oneSample(429) },
    async (req) => {
      const r = await score(req.body);
      return { reward: r.score, ...verdictFlags(r) };
    },
  );
}
