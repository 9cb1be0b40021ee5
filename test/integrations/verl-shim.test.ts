// The verl shim, run by the system Python against a real reward server.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { parseRewardConfig } from "../../src/reward/config.ts";
import { createRewardSystem, type RewardSystem } from "../../src/reward/system.ts";
import { createRewardServer } from "../../src/serve/reward-server.ts";
import { PYTHON, run } from "./server.ts";

const shimDir = fileURLToPath(new URL("../../integrations/verl/", import.meta.url));
const plugin = fileURLToPath(new URL("../verify/fixtures/echo-verifier.ts", import.meta.url));
let system: RewardSystem;
let app: FastifyInstance;
let base = "";

before(async () => {
  const config = parseRewardConfig({
    routes: [{ match: { domain: "echo" }, reward: { type: "rtv" } }],
    verify: { plugins: [plugin], workers: 1 },
  });
  system = await createRewardSystem(config);
  app = await createRewardServer({ rewardFn: system.rewardFn, domains: system.domains });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
});
after(async () => {
  await app.close();
  await system.close();
});

const SCRIPT = `
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import datascale_reward as d
from datascale_rewards import PermanentRewardError
d.PermanentRewardError = PermanentRewardError

async def main():
    out = await asyncio.gather(
        d.compute_score("echo", "42", "42"),
        d.compute_score("echo", "41", "42", {"index": 3}),
        d.compute_score("gsm8k", "7", "x", {"domain": "echo", "reference": {"answer": "7"}}),
    )
    try:
        await d.compute_score("nowhere", "1", "1")
        out.append("no error")
    except d.PermanentRewardError as e:
        out.append(str(e))
    print(json.dumps(out))

asyncio.run(main())
`;

test("verl compute_score forwards to the reward server and keeps the same keys per sample", {
  skip: !existsSync(PYTHON) && `${PYTHON} not found`,
}, async () => {
  // spawnSync would block the event loop that serves the requests; run Python asynchronously.
  const { code, stdout, stderr } = await run(PYTHON, ["-c", SCRIPT, shimDir], {
    DATASCALE_REWARD_URL: base,
    DATASCALE_RETRIES: "0",
  });
  assert.equal(code, 0, stderr);
  const out = JSON.parse(stdout) as unknown[];
  assert.deepEqual(out.slice(0, 3), [
    { score: 1, acc: 1, invalid: 0 },
    { score: 0, acc: 0, invalid: 0 },
    { score: 1, acc: 1, invalid: 0 },
  ]);
  // A data source that is neither verl's nor a served domain: a permanent 422, raised.
  assert.match(String(out[3]), /HTTP 422 unknown_data_source: data_source: 'nowhere'/);
});

test("the shim is standard-library only", { skip: !existsSync(PYTHON) && `${PYTHON} not found` }, () => {
  const res = spawnSync(
    PYTHON,
    ["-S", "-c", `import sys; sys.path.insert(0, ${JSON.stringify(shimDir)}); import datascale_reward`],
    {
      encoding: "utf8",
    },
  );
  assert.equal(res.status, 0, res.stderr);
});
