// The `instruction` verifier: scores a response by the fraction of its task's verifiable
// instructions (IFEval ids, IFBench-style extras) it follows, strictly or loosely.
import { z } from "zod";
import { formatZodError } from "../../core/errors.ts";
import { invalidReward } from "../../core/rewards.ts";
import type { Reward, Rollout, Verdict } from "../../core/schemas.ts";
import type { Verifier } from "../types.ts";
import type { Checker, CompiledCheck } from "./checker.ts";
import { IFBENCH_CHECKERS } from "./ifbench.ts";
import { IFEVAL_CHECKERS } from "./ifeval.ts";

export const SOURCE = "rtv:instruction";

export const InstructionVerifierOptions = z.strictObject({
  /** `strict` checks the response as given; `loose` also accepts IFEval's seven trimmed variants. */
  mode: z.enum(["strict", "loose"]).default("strict"),
  /** Score 1 only when every instruction is followed, else 0 (IFEval's prompt-level accuracy). */
  allOrNothing: z.boolean().default(false),
  /** Judge only the text after the last `</think>`, so reasoning does not count against format rules. */
  stripThinking: z.boolean().default(true),
});
export type InstructionVerifierOptions = z.input<typeof InstructionVerifierOptions>;

export const CHECKERS: ReadonlyMap<string, Checker> = new Map(
  [...IFEVAL_CHECKERS, ...IFBENCH_CHECKERS].map((c) => [c.id, c]),
);

export function instructionTypes(): string[] {
  return [...CHECKERS.keys()];
}

const LOOSE_VARIANTS = [
  "remove_stars",
  "remove_first_line",
  "remove_last_line",
  "remove_first_and_last_line",
  "remove_first_line_and_stars",
  "remove_last_line_and_stars",
  "remove_first_and_last_line_and_stars",
] as const;

/** IFEval's loose variants, in its order after the response itself. */
export function looseVariants(response: string): readonly string[] {
  const lines = response.split("\n");
  const first = lines.slice(1).join("\n").trim();
  const last = lines.slice(0, -1).join("\n").trim();
  const both = lines.slice(1, -1).join("\n").trim();
  const unstar = (s: string) => s.replaceAll("*", "");
  return [unstar(response), first, last, both, unstar(first), unstar(last), unstar(both)];
}

export interface InstructionOutcome {
  readonly index: number;
  readonly type: string;
  readonly ok: boolean;
  readonly why: string;
  /** In loose mode, the trimmed variant that passed when the response itself did not. */
  readonly variant?: string;
}

function stripThinking(response: string): string {
  const end = response.lastIndexOf("</think>");
  return end < 0 ? response : response.slice(end + "</think>".length);
}

function runCheck(check: CompiledCheck, response: string, variants: () => readonly string[], loose: boolean) {
  if (response.trim() === "") return { ok: false, why: "empty response" };
  const strict = check(response);
  if (strict.ok || !loose) return strict;
  const vs = variants();
  for (const [i, v] of vs.entries()) {
    if (v.trim() === "") continue;
    const r = check(v);
    if (r.ok) return { ...r, variant: LOOSE_VARIANTS[i] };
  }
  return strict;
}

export function createInstructionVerifier(options: InstructionVerifierOptions = {}): Verifier {
  const opts = InstructionVerifierOptions.parse(options);
  const loose = opts.mode === "loose";
  return {
    domain: "instruction",
    source: SOURCE,
    verify(rollout: Rollout): Reward {
      const list = rollout.reference?.instructions;
      if (list === undefined || list.length === 0) {
        return invalidReward(rollout.id, SOURCE, "reference.instructions is missing or empty", {
          field: "reference.instructions",
        });
      }
      const compiled: CompiledCheck[] = [];
      for (const [i, ins] of list.entries()) {
        const checker = CHECKERS.get(ins.type);
        if (checker === undefined) {
          return invalidReward(rollout.id, SOURCE, `unknown instruction type "${ins.type}"`, {
            field: `reference.instructions.${i}.type`,
          });
        }
        const c = checker.compile(ins.kwargs ?? {});
        if (!c.ok) {
          const field = `reference.instructions.${i}.kwargs${c.field === "" ? "" : `.${c.field}`}`;
          return invalidReward(rollout.id, SOURCE, `${ins.type}: ${field}: ${c.message}`, { field });
        }
        compiled.push(c.check);
      }
      const response = opts.stripThinking ? stripThinking(rollout.response) : rollout.response;
      let variants: readonly string[] | undefined;
      const lazyVariants = () => {
        variants ??= looseVariants(response);
        return variants;
      };
      const outcomes: InstructionOutcome[] = compiled.map((check, index) => ({
        index,
        type: list[index]!.type,
        ...runCheck(check, response, lazyVariants, loose),
      }));
      const followed = outcomes.filter((o) => o.ok).length;
      const total = outcomes.length;
      const verdict: Verdict = followed === total ? "correct" : followed === 0 ? "incorrect" : "partial";
      const score = opts.allOrNothing ? (followed === total ? 1 : 0) : followed / total;
      return {
        id: rollout.id,
        score,
        verdict,
        source: SOURCE,
        details: {
          mode: opts.mode,
          allOrNothing: opts.allOrNothing,
          followed,
          total,
          instructions: outcomes,
        },
      };
    },
  };
}

/** Validates options given as untrusted JSON (config files, CLI), naming the bad field. */
export function parseInstructionVerifierOptions(raw: unknown): InstructionVerifierOptions {
  const r = InstructionVerifierOptions.safeParse(raw);
  if (!r.success) throw new Error(`instruction verifier options: ${formatZodError(r.error)}`);
  return r.data;
}
