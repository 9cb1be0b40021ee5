// Constructors for Reward records, so every producer fills them the same way.
import type { Id, Reward } from "./schemas.ts";

export function errorReward(id: Id, source: string, code: string, message: string): Reward {
  return { id, score: 0, verdict: "error", source, error: { code, message } };
}

export function invalidReward(
  id: Id,
  source: string,
  reason: string,
  details?: Record<string, unknown>,
): Reward {
  return { id, score: 0, verdict: "invalid", source, details: { reason, ...details } };
}
