// The texts a judge reads from a task or rollout: its prompt (chat messages flattened) and
// the reference it is compared against.
import type { Reference, Task } from "../core/schemas.ts";
import type { ReferenceKind } from "./types.ts";

export function promptText(t: Pick<Task, "prompt" | "messages">): string {
  return t.prompt ?? (t.messages ?? []).map((m) => `${m.role}: ${m.content}`).join("\n");
}

/**
 * Ground truth (`answer`, else a reference `response`) for `gt`; the Best-of-N `response` for
 * `bon`; nothing for `none`.
 */
export function referenceText(
  t: { reference?: Reference | undefined },
  kind: ReferenceKind,
): string | undefined {
  if (kind === "none") return undefined;
  const ref = t.reference;
  const v = kind === "gt" ? (ref?.answer ?? ref?.response) : ref?.response;
  return v === undefined ? undefined : String(v);
}
