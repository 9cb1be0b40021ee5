// The `logic` verifier: checks an answer to any generated task (src/tasks) by dispatching on
// its family (meta.family or reference.family) to the checker written next to the family's
// generator. It serves every family, math and code ones included, so a task verifies
// through domain `logic` whatever domain it declares. Synchronous and allocation-light:
// this is the hot path of `datascale verify` and of the embedded engine's reward.
import { errorMessage } from "../../core/errors.ts";
import { errorReward } from "../../core/rewards.ts";
import type { Reward, Rollout } from "../../core/schemas.ts";
import { extractAnswer } from "../../tasks/answer.ts";
import { ReferenceShapeError } from "../../tasks/family.ts";
import { FAMILIES, getFamily } from "../../tasks/index.ts";
import type { Verifier } from "../types.ts";

export const LOGIC_SOURCE = "rtv:logic";

export interface LogicVerifierOptions {
  /** Allow the partial credit some families define (fractions, maze). Default true. */
  partialCredit?: boolean;
  /** Domain name to serve; default `logic`. */
  domain?: string;
}

function familyOf(rollout: Rollout): unknown {
  return rollout.meta?.["family"] ?? (rollout.reference as Record<string, unknown> | undefined)?.["family"];
}

export function createLogicVerifier(options: LogicVerifierOptions = {}): Verifier {
  const partialCredit = options.partialCredit ?? true;
  const domain = options.domain ?? "logic";
  return {
    domain,
    source: LOGIC_SOURCE,
    verify(rollout: Rollout): Reward {
      const name = familyOf(rollout);
      if (typeof name !== "string") {
        return errorReward(
          rollout.id,
          LOGIC_SOURCE,
          "bad_reference",
          "missing meta.family (or reference.family) naming the task family",
        );
      }
      const family = getFamily(name);
      if (family === undefined) {
        return errorReward(
          rollout.id,
          LOGIC_SOURCE,
          "bad_reference",
          `unknown task family '${name}' (known: ${FAMILIES.map((f) => f.name).join(", ")})`,
        );
      }
      if (rollout.reference === undefined) {
        return errorReward(rollout.id, LOGIC_SOURCE, "no_reference", `${name}: missing reference`);
      }
      const extracted = extractAnswer(rollout.response);
      if (!extracted.ok) {
        return {
          id: rollout.id,
          score: 0,
          verdict: "incorrect",
          source: LOGIC_SOURCE,
          details: { family: name, reason: extracted.reason },
        };
      }
      try {
        const result = family.check(rollout.reference, extracted.text, { partialCredit });
        const details: Record<string, unknown> = { family: name, format: extracted.format };
        if (result.reason !== undefined) details["reason"] = result.reason;
        if (result.details !== undefined) Object.assign(details, result.details);
        return {
          id: rollout.id,
          score: result.score,
          verdict: result.verdict,
          source: LOGIC_SOURCE,
          details,
        };
      } catch (e) {
        if (e instanceof ReferenceShapeError)
          return errorReward(rollout.id, LOGIC_SOURCE, "bad_reference", `reference: ${e.message}`);
        return errorReward(rollout.id, LOGIC_SOURCE, "checker_crash", `${name}: ${errorMessage(e)}`);
      }
    },
  };
}

/** Plugin-style entry point, so `--plugin src/verify/logic/index.ts` also works. */
export const createVerifier = createLogicVerifier;
