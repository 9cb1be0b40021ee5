import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { lineBatches } from "../../src/select/lines.ts";

const root = await mkdtemp(join(tmpdir(), "ds-lines-"));
after(() => rm(root, { recursive: true, force: true }));

async function lines(text: string, options: { maxLineBytes?: number; chunkBytes?: number }) {
  const p = join(root, "f.txt");
  await writeFile(p, text);
  const out: [number, string | null][] = [];
  for await (const b of lineBatches(p, options)) {
    for (const [i, t] of b.texts.entries()) out.push([b.first + i, t]);
  }
  return out;
}

test("line batches match a plain split for every chunk size, with UTF-8 split across chunks", async () => {
  const text = 'héllo wörld\r\n\n{"a":"日本語"}\nplain\nlast without newline';
  const expected = text.split("\n").map((t, i) => [i + 1, t.replace(/\r$/, "")] as [number, string]);
  for (const chunkBytes of [1, 2, 3, 5, 7, 16, 1024]) {
    assert.deepEqual(await lines(text, { chunkBytes }), expected, `chunk ${chunkBytes}`);
  }
  assert.deepEqual(await lines("a\n", { chunkBytes: 1 }), [[1, "a"]]);
  assert.deepEqual(await lines("", {}), []);
});

test("an overlong line becomes null without being held, and numbering goes on", async () => {
  const text = `ok\n${"x".repeat(50)}\nafter\n${"y".repeat(40)}`;
  for (const chunkBytes of [4, 13, 1024]) {
    assert.deepEqual(
      await lines(text, { chunkBytes, maxLineBytes: 20 }),
      [
        [1, "ok"],
        [2, null],
        [3, "after"],
        [4, null],
      ],
      `chunk ${chunkBytes}`,
    );
  }
});
