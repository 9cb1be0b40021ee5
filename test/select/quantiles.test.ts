import assert from "node:assert/strict";
import { test } from "node:test";
import { QuantileSummary } from "../../src/select/quantiles.ts";

test("exact mode answers order statistics, mid-ranks and counts exactly", () => {
  const q = new QuantileSummary({ exactCapacity: 100 });
  for (const x of [5, 1, 3, 3, 2, 4, 3, 0, 9, 7]) q.add(x);
  assert.ok(q.exact);
  assert.equal(q.quantile(0.1), 0);
  assert.equal(q.quantile(0.5), 3);
  assert.equal(q.orderStatistic(3), 2);
  assert.deepEqual(q.countBelow(3), { below: 3, equal: 3 });
  assert.equal(q.rank(3), 3 / 10);
  assert.equal(q.rank(0), 0);
  assert.throws(() => q.add(Number.NaN), /finite/);
});

test("past capacity it switches to a bounded sketch whose ranks stay within 1% of exact", () => {
  const n = 200_000;
  const exact = new QuantileSummary({ exactCapacity: n });
  const sketch = new QuantileSummary({ exactCapacity: 1000 });
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const x = (s / 2 ** 32) * 4 - 1; // values in [-1, 3), negatives included
    exact.add(x);
    sketch.add(x);
  }
  assert.ok(exact.exact);
  assert.ok(!sketch.exact);
  assert.equal(sketch.count, n);
  for (const p of [0.01, 0.1, 0.25, 0.5, 0.9]) {
    const v = sketch.quantile(p);
    assert.ok(
      Math.abs(exact.rank(v) - p) < 0.01,
      `quantile ${p}: sketch value ${v} has exact rank ${exact.rank(v)}`,
    );
    const x = exact.quantile(p);
    assert.ok(Math.abs(sketch.rank(x) - p) < 0.01, `rank of ${x}: ${sketch.rank(x)} vs ${p}`);
  }
});
