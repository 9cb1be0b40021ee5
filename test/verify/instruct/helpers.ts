// Runs one instruction against one response through the public verifier, so the tests
// exercise kwargs validation, compilation and scoring exactly as production does.
import type { Reward } from "../../../src/core/schemas.ts";
import { createInstructionVerifier } from "../../../src/verify/instruct/verifier.ts";

const strict = createInstructionVerifier({ mode: "strict" });
const loose = createInstructionVerifier({ mode: "loose" });

export interface Outcome {
  ok: boolean;
  why: string;
  variant?: string;
}

export function verifyOne(
  type: string,
  kwargs: Record<string, unknown>,
  response: string,
  mode: "strict" | "loose" = "strict",
): Reward {
  const v = mode === "strict" ? strict : loose;
  return v.verify({
    id: "t",
    domain: "instruction",
    response,
    reference: { instructions: [{ type, kwargs }] },
  }) as Reward;
}

export function outcome(
  type: string,
  kwargs: Record<string, unknown>,
  response: string,
  mode: "strict" | "loose" = "strict",
): Outcome {
  const r = verifyOne(type, kwargs, response, mode);
  if (r.verdict === "invalid") throw new Error(`invalid: ${String(r.details?.["reason"])}`);
  const list = r.details?.["instructions"] as Outcome[];
  return list[0]!;
}

export interface Case {
  type: string;
  kwargs?: Record<string, unknown>;
  /** Responses that follow the instruction (strict mode). */
  pass: string[];
  /** Responses that do not. */
  fail: string[];
  note?: string;
}
