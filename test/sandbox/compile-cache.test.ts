// The compile cache: the same source compiles once, also when several submissions of it
// arrive together; a compile error is served from the cache; any difference in the source
// or the extra files is a different program.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { probeIsolation } from "../../src/sandbox/isolation.ts";
import { Sandbox } from "../../src/sandbox/sandbox.ts";

const report = probeIsolation();
const skip = report.bwrap.works ? false : `bubblewrap unusable here: ${report.bwrap.error}`;
let sandbox: Sandbox;
const SRC = `#include <iostream>\nint main(){ long a, b; std::cin >> a >> b; std::cout << a * b << std::endl; } // ${process.pid}`;

before(() => {
  if (!skip) sandbox = new Sandbox({ concurrency: 4, warm: 2 });
});
after(async () => {
  if (!skip) await sandbox.close();
});

it("concurrent submissions of one source share one compile; each still runs its own tests", {
  skip,
}, async () => {
  const cache = sandbox.compileCache;
  assert.ok(cache);
  const before = { hits: cache.hits, misses: cache.misses };
  const results = await Promise.all(
    [2, 3, 4, 5].map((k) =>
      sandbox.runSubmission({ language: "cpp", code: SRC, tests: [{ stdin: `${k} 10` }] }),
    ),
  );
  assert.deepEqual(
    results.map((r) => r.tests[0]?.stdout),
    ["20\n", "30\n", "40\n", "50\n"],
  );
  assert.equal(cache.misses - before.misses, 1, "compiled once");
  assert.equal(cache.hits - before.hits, 3);
  assert.equal(
    results.filter((r) => r.compile?.wallMs === 0).length,
    3,
    "three compile results came from the cache",
  );
  assert.ok(results.every((r) => r.compile?.status === "ok"));
  // Another source, or the same one with other files, compiles anew.
  const other = await sandbox.runSubmission({ language: "cpp", code: `${SRC}\n`, tests: [{ stdin: "1 1" }] });
  assert.notEqual(other.compile?.wallMs, 0);
  const withFiles = await sandbox.runSubmission({
    language: "cpp",
    code: SRC,
    files: { "x.txt": "eA==" },
    tests: [{ stdin: "1 1" }],
  });
  assert.notEqual(withFiles.compile?.wallMs, 0);
});

it("a compile error is cached: the second submission gets it without a sandbox", { skip }, async () => {
  const broken = `int main( { return 0; } // ${process.pid}`;
  const first = await sandbox.runSubmission({ language: "cpp", code: broken, tests: [{ stdin: "" }] });
  assert.equal(first.compile?.status, "compile_error");
  const second = await sandbox.runSubmission({ language: "cpp", code: broken, tests: [{ stdin: "" }] });
  assert.equal(second.compile?.status, "compile_error");
  assert.equal(second.compile?.stderr, first.compile?.stderr);
  assert.equal(second.compile?.wallMs, 0);
  assert.deepEqual(second.tests, []);
});
