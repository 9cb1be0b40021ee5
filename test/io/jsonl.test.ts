import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Rollout } from "../../src/core/schemas.ts";
import { readJsonl, splitLines } from "../../src/io/jsonl.ts";

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

test("splitLines handles lines split across chunks, CRLF and a missing final newline", async () => {
  const chunks = ["ab", "c\r\nde", "f\n\ngh"].map((s) => Buffer.from(s));
  assert.deepEqual(await collect(splitLines(Readable.from(chunks))), ["abc", "def", "", "gh"]);
});

test("splitLines reports an oversize line as null without buffering it, then goes on", async () => {
  const big = "x".repeat(100);
  const lines = await collect(
    splitLines(Readable.from([Buffer.from(`ok\n${big}`), Buffer.from(`${big}\nafter\n`)]), 50),
  );
  assert.deepEqual(lines, ["ok", null, "after"]);
});

test("readJsonl names the file and line of bad JSON and of schema failures, and continues", async () => {
  const text = [
    JSON.stringify({ id: "a", domain: "math", response: "1" }),
    "{not json",
    JSON.stringify({ id: "b", domain: "math" }),
    "",
    JSON.stringify({ id: 3, domain: "math", response: "2" }),
  ].join("\n");
  const items = await collect(readJsonl(Readable.from([text]), { schema: Rollout, name: "in.jsonl" }));
  assert.equal(items.length, 4);
  assert.equal(items[0]?.ok, true);
  const bad = items[1];
  assert.ok(bad && !bad.ok);
  assert.match(bad.error, /^in\.jsonl:2: invalid JSON/);
  const missing = items[2];
  assert.ok(missing && !missing.ok);
  assert.match(missing.error, /^in\.jsonl:3: response: /);
  assert.equal(missing.id, "b");
  const last = items[3];
  assert.ok(last?.ok);
  assert.equal(last.line, 5);
  assert.equal(last.value.id, 3);
});

test("readJsonl streams a large file in bounded memory", async () => {
  const n = 200_000;
  async function* gen() {
    for (let i = 0; i < n; i += 1000) {
      let s = "";
      for (let j = i; j < i + 1000; j++) s += `{"id":${j},"domain":"math","response":"${"y".repeat(200)}"}\n`;
      yield Buffer.from(s);
    }
  }
  // Garbage is not retained memory: collect before each reading.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  let count = 0;
  let peak = 0;
  for await (const item of readJsonl(Readable.from(gen()), { schema: Rollout })) {
    assert.ok(item.ok);
    count++;
    if (count % 50_000 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - before);
    }
  }
  assert.equal(count, n);
  // ~50 MB went through; the heap must not hold it.
  assert.ok(peak < 8 * 1024 * 1024, `heap grew by ${peak} bytes`);
});
