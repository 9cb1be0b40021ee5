// Overrides laid over defaults (config files over presets, flags over files): plain objects
// merge key by key, anything else (scalars, arrays) replaces.
export function deepMerge(a: unknown, b: unknown): unknown {
  if (typeof a !== "object" || a === null || Array.isArray(a)) return b;
  if (typeof b !== "object" || b === null || Array.isArray(b)) return b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = deepMerge(out[k], v);
  return out;
}
