// The vocabulary every part of DataScale speaks. Schemas are written once with zod; the
// TypeScript types are inferred from them, and `datascale schema` exports them as JSON
// Schema so other languages can validate the same records.
import { z } from "zod";

/** Record ids: strings, or integers as many datasets use. Echoed back unchanged. */
export const Id = z.union([z.string().min(1), z.number().int()]);
export type Id = z.infer<typeof Id>;

/** Well-known domains; any other string is allowed and routed by configuration. */
export const WELL_KNOWN_DOMAINS = ["math", "code", "instruction", "logic", "general"] as const;
export const Domain = z.string().min(1);
export type Domain = z.infer<typeof Domain>;

export const Message = z.object({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string(),
});
export type Message = z.infer<typeof Message>;

/** One code test. Styles: stdin/stdout, function call, or an assertion program. */
export const CodeTest = z.looseObject({
  input: z.string().optional(),
  output: z.string().optional(),
  args: z.array(z.unknown()).optional(),
  expected: z.unknown().optional(),
  code: z.string().optional(),
});
export type CodeTest = z.infer<typeof CodeTest>;

export const Instruction = z.object({
  type: z.string().min(1),
  kwargs: z.record(z.string(), z.unknown()).default({}),
});
export type Instruction = z.infer<typeof Instruction>;

/** Reference semantics an instruction-following rollout may ask for instead of DataScale's own. */
export const COMPAT_MODES = ["ifeval"] as const;

/**
 * What a response is judged against. Which fields matter depends on the domain:
 * `answer` (math/logic ground truth), `tests`/`language`/`entry`/`style` (code),
 * `instructions` (instruction following, IFEval ids), `response` (a reference answer such
 * as the SFT Best-of-N). Unknown fields pass through for verifiers that define their own.
 */
export const Reference = z.looseObject({
  answer: z.union([z.string(), z.number()]).optional(),
  tests: z.array(CodeTest).optional(),
  language: z.string().optional(),
  entry: z.string().optional(),
  style: z.enum(["stdio", "call", "assert"]).optional(),
  instructions: z.array(Instruction).optional(),
  /** `"ifeval"`: judge IFEval's instruction ids exactly as google-research's reference implementation does. */
  compat: z.enum(COMPAT_MODES).optional(),
  response: z.string().optional(),
});
export type Reference = z.infer<typeof Reference>;

const taskFields = {
  id: Id,
  domain: Domain,
  prompt: z.string().optional(),
  messages: z.array(Message).optional(),
  reference: Reference.optional(),
  source: z.string().optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
};

/** A prompt with what its answers are judged against. */
export const Task = z
  .looseObject(taskFields)
  .refine((t) => t.prompt !== undefined || t.messages !== undefined, {
    message: "a task needs `prompt` or `messages`",
    path: ["prompt"],
  });
export type Task = z.infer<typeof Task>;

/** A task plus one response to it. The prompt is optional: verifiers do not need it. */
export const Rollout = z.looseObject({
  ...taskFields,
  response: z.string(),
  logprobs: z.array(z.number()).optional(),
  policy: z.string().optional(),
  step: z.number().int().nonnegative().optional(),
});
export type Rollout = z.infer<typeof Rollout>;

export const VERDICTS = ["correct", "incorrect", "partial", "invalid", "error"] as const;
export const Verdict = z.enum(VERDICTS);
export type Verdict = z.infer<typeof Verdict>;

export const RewardError = z.object({ code: z.string().min(1), message: z.string() });
export type RewardError = z.infer<typeof RewardError>;

/**
 * A judgement. `score` is in [0, 1] for verifiers and judges (Bradley–Terry sources may
 * emit unbounded logits and say so in `source`). An infrastructure failure is
 * `verdict: "error"` with `error` set — never a silent 0 that would poison training.
 */
export const Reward = z
  .object({
    id: Id,
    score: z.number().refine(Number.isFinite, "score must be finite"),
    verdict: Verdict,
    source: z.string().min(1),
    details: z.record(z.string(), z.unknown()).optional(),
    error: RewardError.optional(),
  })
  .refine((r) => (r.verdict === "error") === (r.error !== undefined), {
    message: "`error` is set exactly when verdict is `error`",
    path: ["error"],
  });
export type Reward = z.infer<typeof Reward>;

/** The one seam between training and rewards: in-process or over HTTP, same type. */
export type RewardFn = (rollouts: readonly Rollout[]) => Promise<Reward[]>;

export const SCHEMAS = { Task, Rollout, Reward, Message, Reference, Instruction, CodeTest } as const;
