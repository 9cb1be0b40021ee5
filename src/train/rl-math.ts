// The arithmetic of PPO and GRPO as pure functions over per-token arrays, so each can be
// checked against hand-computed values: KL estimators, GAE, group-relative advantages,
// whitening, the clipped surrogate and the clipped value loss with their gradients, and
// the chain rule from d(loss)/d(logprob) to d(loss)/d(logits).

export type KlEstimator = "k1" | "k3";

/**
 * Per-token KL(π‖π_ref) estimate from the sampled token's logprobs (Schulman's k1/k3):
 * k1 = logπ − logπ_ref (unbiased, can be negative); k3 = r − log r − 1 with r = π_ref/π
 * (unbiased, always ≥ 0, lower variance).
 */
export function klEstimate(logp: number, refLogp: number, estimator: KlEstimator): number {
  const d = refLogp - logp;
  return estimator === "k1" ? -d : Math.exp(d) - d - 1;
}

/** d(kl estimate)/d(logπ) for the same estimators (π_ref is frozen). */
export function klGrad(logp: number, refLogp: number, estimator: KlEstimator): number {
  return estimator === "k1" ? 1 : 1 - Math.exp(refLogp - logp);
}

/**
 * Generalised advantage estimation over one response (Schulman et al. 2016):
 * δ_t = r_t + γ·V_{t+1} − V_t with V_T = 0 after the last token; A_t = Σ (γλ)^k δ_{t+k};
 * returns R_t = A_t + V_t are the critic's targets.
 */
export function gae(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  gamma: number,
  lambda: number,
): { advantages: Float64Array; returns: Float64Array } {
  const n = rewards.length;
  if (values.length !== n) throw new RangeError(`gae: ${n} rewards but ${values.length} values`);
  const advantages = new Float64Array(n);
  const returns = new Float64Array(n);
  let next = 0;
  let nextValue = 0;
  for (let t = n - 1; t >= 0; t--) {
    const delta = rewards[t]! + gamma * nextValue - values[t]!;
    next = delta + gamma * lambda * next;
    advantages[t] = next;
    returns[t] = next + values[t]!;
    nextValue = values[t]!;
  }
  return { advantages, returns };
}

/**
 * GRPO's group-relative advantage: each response's score minus its group's mean, divided by
 * the group's standard deviation (+eps) when `scaleByStd`. `groups[i]` names the group
 * (prompt) of score i. Rows with `valid[i]` false (an `error` reward: no score at all) take
 * no part in their group's mean and std and get advantage 0; a group with fewer than 2 valid
 * rows has nothing to compare and gets 0 throughout, as does a group whose scores are equal.
 */
export function groupAdvantages(
  scores: readonly number[],
  groups: readonly number[],
  options: { scaleByStd?: boolean; eps?: number; valid?: readonly boolean[] } = {},
): Float64Array {
  const eps = options.eps ?? 1e-6;
  const scale = options.scaleByStd ?? true;
  const valid = options.valid;
  if (valid !== undefined && valid.length !== scores.length)
    throw new RangeError(`groupAdvantages: ${scores.length} scores but ${valid.length} validity flags`);
  const stats = new Map<number, { n: number; sum: number; sq: number; min: number; max: number }>();
  scores.forEach((s, i) => {
    if (valid?.[i] === false) return;
    const g = groups[i]!;
    const st = stats.get(g) ?? { n: 0, sum: 0, sq: 0, min: s, max: s };
    st.n++;
    st.sum += s;
    st.sq += s * s;
    st.min = Math.min(st.min, s);
    st.max = Math.max(st.max, s);
    stats.set(g, st);
  });
  const out = new Float64Array(scores.length);
  scores.forEach((s, i) => {
    const st = stats.get(groups[i]!);
    // Equal scores are tested directly: their mean, summed in floating point, need not equal them.
    if (valid?.[i] === false || st === undefined || st.n < 2 || st.min === st.max) return;
    const mean = st.sum / st.n;
    // Unbiased std, as GRPO's reference implementation (torch.std) computes it.
    const variance = Math.max(0, (st.sq - st.n * mean * mean) / (st.n - 1));
    const a = s - mean;
    out[i] = !scale ? a : a === 0 ? 0 : a / (Math.sqrt(variance) + eps);
  });
  return out;
}

/** Mean and (population) standard deviation of the entries where mask is 1. */
export function maskedMoments(x: ArrayLike<number>, mask: ArrayLike<number>): { mean: number; std: number } {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    if (mask[i]! !== 0) {
      n++;
      sum += x[i]!;
    }
  }
  if (n === 0) return { mean: 0, std: 0 };
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < x.length; i++) if (mask[i]! !== 0) sq += (x[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(sq / n) };
}

/** In-place whitening of the masked entries: (x − mean)/(std + eps); `shiftMean` false keeps the mean. */
export function whiten(x: Float64Array, mask: ArrayLike<number>, shiftMean = true, eps = 1e-8): void {
  const { mean, std } = maskedMoments(x, mask);
  for (let i = 0; i < x.length; i++) {
    if (mask[i]! === 0) continue;
    x[i] = shiftMean ? (x[i]! - mean) / (std + eps) : (x[i]! - mean) / (std + eps) + mean;
  }
}

export interface SurrogateTerm {
  /** −min(ρA, clip(ρ, 1−ε, 1+ε)A) */
  loss: number;
  /** d(loss)/d(logπ) */
  grad: number;
  /** The clipped branch was the active one (its gradient is 0). */
  clipped: boolean;
  ratio: number;
}

/** PPO's clipped surrogate for one token (ρ = exp(logπ − logπ_old)). */
export function clippedSurrogate(
  logp: number,
  oldLogp: number,
  advantage: number,
  clipEps: number,
): SurrogateTerm {
  const ratio = Math.exp(logp - oldLogp);
  const unclipped = -ratio * advantage;
  const clippedRatio = Math.min(Math.max(ratio, 1 - clipEps), 1 + clipEps);
  const clippedLoss = -clippedRatio * advantage;
  if (clippedLoss > unclipped) return { loss: clippedLoss, grad: 0, clipped: true, ratio };
  return { loss: unclipped, grad: -ratio * advantage, clipped: false, ratio };
}

export interface ValueTerm {
  /** ½·max((v − R)², (v_clip − R)²), v_clip = v_old + clip(v − v_old, −ε, ε) */
  loss: number;
  /** d(loss)/dv */
  grad: number;
  clipped: boolean;
}

/** The clipped value loss of PPO2/verl for one token; clipEps ≤ 0 disables clipping. */
export function clippedValueLoss(value: number, oldValue: number, ret: number, clipEps: number): ValueTerm {
  const plain = 0.5 * (value - ret) ** 2;
  if (!(clipEps > 0)) return { loss: plain, grad: value - ret, clipped: false };
  const vClip = oldValue + Math.min(Math.max(value - oldValue, -clipEps), clipEps);
  const clippedLoss = 0.5 * (vClip - ret) ** 2;
  if (clippedLoss > plain) {
    const inside = Math.abs(value - oldValue) <= clipEps;
    return { loss: clippedLoss, grad: inside ? vClip - ret : 0, clipped: !inside };
  }
  return { loss: plain, grad: value - ret, clipped: false };
}

/**
 * Chain rule through log-softmax: given dL/d(log p(target_n)) per row, writes
 * dL/dlogits[n, v] = g_n·(1[v = target_n] − p_n(v)) (added to what is there when `accumulate`).
 * Rows with g_n = 0 are zeroed (or left) without computing the softmax.
 */
export function logprobGradToLogits(
  dLogits: Float32Array | Float64Array,
  logits: ArrayLike<number>,
  targets: Int32Array,
  dLogp: ArrayLike<number>,
  N: number,
  V: number,
  accumulate = false,
): void {
  for (let n = 0; n < N; n++) {
    const g = dLogp[n]!;
    const o = n * V;
    if (g === 0) {
      if (!accumulate) dLogits.fill(0, o, o + V);
      continue;
    }
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v]! > max) max = logits[o + v]!;
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v]! - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) {
      const d = -g * Math.exp(logits[o + v]! - lse);
      dLogits[o + v] = accumulate ? dLogits[o + v]! + d : d;
    }
    const t = targets[n]!;
    dLogits[o + t] = dLogits[o + t]! + g;
  }
}

/** Ziegler et al.'s adaptive KL coefficient: β ← β·(1 + clip(KL/target − 1, ±0.2)·n/horizon). */
export function adaptiveKlCoef(
  beta: number,
  kl: number,
  target: number,
  nSteps: number,
  horizon: number,
): number {
  const error = Math.min(Math.max(kl / target - 1, -0.2), 0.2);
  return beta * (1 + (error * nSteps) / horizon);
}
