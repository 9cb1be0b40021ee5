// What an instruction checker is: an id, a zod schema for its kwargs, and a compiler from
// validated kwargs to a pure function of the response. Compiling once lets loose mode run
// the same check on eight variants of a response without re-validating or rebuilding regexes.
import { z } from "zod";

export interface Check {
  readonly ok: boolean;
  /** One short sentence a human can act on: what was measured and what was required. */
  readonly why: string;
}

export type CompiledCheck = (response: string) => Check;

export type Compiled =
  | { readonly ok: true; readonly check: CompiledCheck }
  | { readonly ok: false; readonly field: string; readonly message: string };

export interface Checker {
  readonly id: string;
  readonly kwargs: z.ZodType;
  compile(raw: Readonly<Record<string, unknown>>): Compiled;
}

interface CheckerSpec<S extends z.ZodType> {
  readonly id: string;
  readonly kwargs: S;
  readonly compile: (kwargs: z.output<S>) => CompiledCheck;
}

/**
 * IFEval's published data gives every instruction a kwargs object holding every kwarg name
 * of every instruction, null where unused; nulls are therefore dropped before validation,
 * and anything else unknown is an error rather than silently ignored.
 */
export function defineChecker<S extends z.ZodType>(spec: CheckerSpec<S>): Checker {
  return {
    id: spec.id,
    kwargs: spec.kwargs,
    compile(raw) {
      const present: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) if (v !== null && v !== undefined) present[k] = v;
      const parsed = spec.kwargs.safeParse(present);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = issue?.path.map(String) ?? [];
        const keys = issue?.code === "unrecognized_keys" ? issue.keys : [];
        const field = [...path, ...keys.slice(0, 1)].join(".");
        return { ok: false, field, message: issue?.message ?? "invalid kwargs" };
      }
      return { ok: true, check: spec.compile(parsed.data) };
    },
  };
}

export const pass = (why: string): Check => ({ ok: true, why });
export const fail = (why: string): Check => ({ ok: false, why });
export const verdict = (ok: boolean, why: string): Check => ({ ok, why });

export const Count = z.int().nonnegative();
export const Positive = z.int().positive();
export const NonEmpty = z.string().trim().min(1);

export const Relation = z.enum(["less than", "at least"]);
export type Relation = z.infer<typeof Relation>;

export function compare(actual: number, relation: Relation, threshold: number): boolean {
  return relation === "less than" ? actual < threshold : actual >= threshold;
}

export function compared(what: string, actual: number, relation: Relation, threshold: number): Check {
  return verdict(compare(actual, relation, threshold), `${actual} ${what}; needs ${relation} ${threshold}`);
}
