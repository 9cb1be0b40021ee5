// Finds the solution in a model response: the last fenced block in the target language,
// else (by default) the last fenced block with no language tag. Never a guess from prose.

export interface Extracted {
  code: string;
  /** The fence's info string, lower-cased ("" for an untagged block). */
  tag: string;
}

const FENCE = /^([ \t]*)(`{3,}|~{3,})[ \t]*([^\n`]*)\n([\s\S]*?)\n?[ \t]*\2[ \t]*$/gm;

export function fencedBlocks(text: string): Extracted[] {
  const blocks: Extracted[] = [];
  for (const m of text.matchAll(FENCE)) {
    const tag = (m[3] ?? "").trim().split(/\s+/)[0]?.toLowerCase() ?? "";
    blocks.push({ code: m[4] ?? "", tag });
  }
  return blocks;
}

export type ExtractResult = { ok: true; code: string; tag: string } | { ok: false; reason: string };

export function extractSolution(
  response: string,
  fenceTags: readonly string[],
  options: { allowUntagged?: boolean } = {},
): ExtractResult {
  const blocks = fencedBlocks(response);
  if (blocks.length === 0) return { ok: false, reason: "no fenced code block in the response" };
  const tagged = blocks.filter((b) => fenceTags.includes(b.tag));
  const pick =
    tagged.at(-1) ??
    (options.allowUntagged !== false ? blocks.filter((b) => b.tag === "").at(-1) : undefined);
  if (pick === undefined) {
    const seen = [...new Set(blocks.map((b) => b.tag || "(untagged)"))].join(", ");
    return { ok: false, reason: `no code block in ${fenceTags[0]} (found: ${seen})` };
  }
  if (pick.code.trim() === "") return { ok: false, reason: "the selected code block is empty" };
  return { ok: true, code: pick.code, tag: pick.tag };
}
