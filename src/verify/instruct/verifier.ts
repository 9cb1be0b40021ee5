// The `instruction` verifier: scores a response by the fraction of its task's verifiable
// instructions (IFEval ids, IFBench-style extras) it follows, strictly or loosely.
import { z } from "zod";
import { formatZodError } from "../../core/errors.ts";
import { errorReward } from "../../core/rewards.ts";
import {
  COMPAT_MODES,
  type Instruction,
  type Reward,
  type Rollout,
  type Verdict,
} from "../../core/schemas.ts";
import type { Verifier, VerifyOptions } from "../types.ts";
import type { Check, Checker, CompiledCheck } from "./checker.ts";
import { IFEVAL_REFERENCE_CHECKERS } from "./compat/ifeval-reference.ts";
import { PunktModelMissing } from "./compat/punkt.ts";
import { pyStrip } from "./compat/py.ts";
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

/**
 * `reference.compat: "ifeval"`: IFEval's 25 ids judged as google-research's reference
 * implementation does (compat/ifeval-reference.ts); other ids keep their one meaning.
 */
const COMPAT_CHECKERS: ReadonlyMap<string, Checker> = new Map([
  ...CHECKERS,
  ...IFEVAL_REFERENCE_CHECKERS.map((c) => [c.id, c] as const),
]);

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

/**
 * IFEval's loose variants, in its order after the response itself. `strip` is how the
 * trimmed variants are stripped: JS whitespace in our mode, Python's in compat mode.
 */
export function looseVariants(
  response: string,
  strip: (s: string) => string = (s) => s.trim(),
): readonly string[] {
  const lines = response.split("\n");
  const first = strip(lines.slice(1).join("\n"));
  const last = strip(lines.slice(0, -1).join("\n"));
  const both = strip(lines.slice(1, -1).join("\n"));
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

class OverBudget extends Error {}

interface Run {
  readonly loose: boolean;
  readonly strip: (s: string) => string;
  readonly variants: () => readonly string[];
  /** Epoch ms after which no further check starts. */
  readonly deadline: number;
}

function runCheck(check: CompiledCheck, response: string, run: Run): Check & { variant?: string } {
  if (run.strip(response) === "") return { ok: false, why: "empty response" };
  const strict = check(response);
  if (strict.ok || !run.loose) return strict;
  for (const [i, v] of run.variants().entries()) {
    if (run.strip(v) === "") continue;
    if (Date.now() > run.deadline) throw new OverBudget();
    const r = check(v);
    if (r.ok) return { ...r, variant: LOOSE_VARIANTS[i] };
  }
  return strict;
}

/** Each instruction's check, or what is wrong with the first one that cannot be checked. */
function compileInstructions(
  list: readonly Instruction[],
  checkers: ReadonlyMap<string, Checker>,
): CompiledCheck[] | string {
  const compiled: CompiledCheck[] = [];
  for (const [i, ins] of list.entries()) {
    const checker = checkers.get(ins.type);
    if (checker === undefined)
      return `reference.instructions.${i}.type: unknown instruction type "${ins.type}"`;
    const c = checker.compile(ins.kwargs ?? {});
    if (!c.ok) {
      const field = `reference.instructions.${i}.kwargs${c.field === "" ? "" : `.${c.field}`}`;
      return `${field}: ${ins.type}: ${c.message}`;
    }
    compiled.push(c.check);
  }
  return compiled;
}

export function createInstructionVerifier(options: InstructionVerifierOptions = {}): Verifier {
  const opts = InstructionVerifierOptions.parse(options);
  const loose = opts.mode === "loose";
  return {
    domain: "instruction",
    source: SOURCE,
    verify(rollout: Rollout, call?: VerifyOptions): Reward {
      const list = rollout.reference?.instructions;
      if (list === undefined || list.length === 0) {
        return errorReward(rollout.id, SOURCE, "bad_reference", "reference.instructions is missing or empty");
      }
      const compat = rollout.reference?.["compat"];
      if (compat !== undefined && !(COMPAT_MODES as readonly unknown[]).includes(compat)) {
        return errorReward(
          rollout.id,
          SOURCE,
          "bad_reference",
          `reference.compat must be one of: ${COMPAT_MODES.join(", ")}`,
        );
      }
      const compiled = compileInstructions(list, compat === "ifeval" ? COMPAT_CHECKERS : CHECKERS);
      if (typeof compiled === "string") return errorReward(rollout.id, SOURCE, "bad_reference", compiled);
      const response = opts.stripThinking ? stripThinking(rollout.response) : rollout.response;
      const strip = compat === "ifeval" ? pyStrip : (s: string) => s.trim();
      let variants: readonly string[] | undefined;
      const run: Run = {
        loose,
        strip,
        variants: () => {
          variants ??= looseVariants(response, strip);
          return variants;
        },
        deadline: Date.now() + (call?.timeBudgetMs ?? Number.POSITIVE_INFINITY),
      };
      const outcomes: InstructionOutcome[] = [];
      try {
        for (const [index, check] of compiled.entries()) {
          if (Date.now() > run.deadline) throw new OverBudget();
          outcomes.push({ index, type: list[index]!.type, ...runCheck(check, response, run) });
        }
      } catch (e) {
        if (e instanceof OverBudget) {
          return errorReward(
            rollout.id,
            SOURCE,
            "time_budget",
            `time budget of ${call?.timeBudgetMs} ms exhausted`,
          );
        }
        if (e instanceof PunktModelMissing)
          return errorReward(rollout.id, SOURCE, "resource_missing", e.message);
        throw e;
      }
      return score(rollout, outcomes, compat === "ifeval" ? "ifeval" : undefined);
    },
  };

  function score(rollout: Rollout, outcomes: InstructionOutcome[], compat: string | undefined): Reward {
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
        ...(compat === undefined ? {} : { compat }),
        allOrNothing: opts.allOrNothing,
        followed,
        total,
        instructions: outcomes,
      },
    };
  }
}

/** Validates options given as untrusted JSON (config files, CLI), naming the bad field. */
export function parseInstructionVerifierOptions(raw: unknown): InstructionVerifierOptions {
  const r = InstructionVerifierOptions.safeParse(raw);
  if (!r.success) throw new Error(`instruction verifier options: ${formatZodError(r.error)}`);
  return r.data;
}
