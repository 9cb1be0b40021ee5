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
import { formatZodError } from "../core/errors.ts";
import { Message, type Rollout } from "../core/schemas.ts";
import { type EngineRouteDeps, scoreOne, sendError, sendFloats } from "./engines.ts";
import { float } from "./json-float.ts";
import { parseLabel } from "./openrlhf.ts";

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
  const handle = (dict: boolean) => async (req: { body: unknown }, reply: import("fastify").FastifyReply) => {
    const body = SlimeRequest.safeParse(req.body);
    if (!body.success) return sendError(reply, 400, "bad_request", formatZodError(body.error));
    const built = slimeRollout(body.data, deps.defaultDomain, deps.nextId("slime"));
    if (!built.ok) return sendError(reply, 400, "bad_label", built.message);
    const reward = await scoreOne(deps, built.rollout, reply);
    if (reward === undefined) return reply;
    if (!dict) return sendFloats(reply, float(reward.score));
    return sendFloats(reply, {
      reward: float(reward.score),
      acc: float(reward.verdict === "correct" ? 1 : 0),
      invalid: float(reward.verdict === "invalid" ? 1 : 0),
    });
  };
  app.post("/slime", handle(false));
  app.post("/slime/dict", handle(true));
}
