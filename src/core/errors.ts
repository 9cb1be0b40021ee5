// Errors that carry a stable code, so callers (and Reward.error) can tell causes apart
// without parsing messages.
import type { z } from "zod";

export class DataScaleError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DataScaleError";
    this.code = code;
  }
}

/** Formats zod issues as `field.path: message; ...` so a user can find the bad field. */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "(record)";
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
