// Cooperative time and size limits. Every loop in parsing, evaluation and comparison calls
// `tick()`, so a call ends on time in any context (main thread, worker, async) without
// signals; inputs that would make arithmetic explode are refused up front by the limits.

export interface MathLimits {
  /** Longest extracted answer (characters) that is parsed at all. */
  maxAnswerLength: number;
  /** Only the last this-many characters of a response are searched for an answer. */
  maxResponseLength: number;
  /** Deepest parser recursion for one answer (each bracket level costs several frames, ≈ 5). */
  maxDepth: number;
  /** Most digits in one numeric literal. */
  maxDigits: number;
  /** Largest exact intermediate result in bits; beyond it evaluation turns numeric. */
  maxBits: number;
  /** Largest n for which n! or binomials are computed exactly. */
  maxFactorial: number;
}

export const DEFAULT_LIMITS: Readonly<MathLimits> = {
  maxAnswerLength: 2000,
  maxResponseLength: 50_000,
  maxDepth: 400,
  maxDigits: 400,
  maxBits: 64_000,
  maxFactorial: 3000,
};

/** An input outside the limits: the verdict is `invalid` (response) or `error` (gold). */
export class MathLimitError extends Error {
  override readonly name = "MathLimitError";
}

/** The time budget ran out: the verdict is `error` with code `time_budget`. */
export class MathBudgetError extends Error {
  override readonly name = "MathBudgetError";
}

export class Budget {
  readonly deadline: number;
  readonly limits: Readonly<MathLimits>;
  #ticks = 0;

  constructor(ms: number, limits: Readonly<MathLimits> = DEFAULT_LIMITS) {
    this.deadline = performance.now() + ms;
    this.limits = limits;
  }

  /** Cheap check for hot loops: reads the clock every 64 calls. */
  tick(): void {
    this.#ticks++;
    if ((this.#ticks & 63) === 0) this.check();
  }

  check(): void {
    if (performance.now() > this.deadline) throw new MathBudgetError("time budget exceeded");
  }
}
