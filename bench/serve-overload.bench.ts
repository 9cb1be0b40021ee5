// bench:serve-overload — the reward server's admission under overload, on loopback.
//   overload: 500 concurrent clients posting 200-rollout /v1/rewards bodies (100k rollouts asked
//             for against --max-queue 65,536), beside the same bodies from 8 clients (no overload).
//   spike:    one 60 MB body of 450k rollouts posted to an idle server, and 32 clients sending
//             one-sample OpenRLHF requests from 3 s later; the big body's status and time, the small requests' failures and p99, and
//             the server's RSS before, at peak and 10 s after.
// The server is the `serve-reward` of --root (default: this checkout), so the same script
// measures an older checkout for a before/after in one sitting.
//   npm run bench:serve-overload [-- --seconds 5 --root /path/to/checkout --args "--processes 1"]
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { openrlhfBody, postLoad, type ServerProcess, startRewardServer } from "./serve-load.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    root: { type: "string" },
    args: { type: "string", default: "" },
    scenario: { type: "string", default: "all" },
  },
});
const seconds = Number(values.seconds);
const root = values.root ?? new URL("../", import.meta.url).pathname;

function startServer(): Promise<ServerProcess> {
  const extra = (values.args ?? "").split(" ").filter((a) => a.length > 0);
  return startRewardServer(`${root}/src/cli/main.ts`, ["--max-queue", "65536", "--no-run-code", ...extra]);
}

/** RSS in MB of a process and its children (a multi-process server's workers). */
function rssMb(pid: number): number {
  const pids = [pid];
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    if (kids) pids.push(...kids.split(/\s+/).map(Number));
  } catch {}
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      kb += Number(m?.[1] ?? 0);
    } catch {}
  }
  return Math.round(kb / 1024);
}

function rollout(i: number): Record<string, unknown> {
  const a = (i * 7919) % 1000;
  return {
    id: i,
    domain: "math",
    response: `Adding the parts gives $${a}$, so the answer is $\\boxed{${a}}$.`,
    reference: { answer: String(i % 3 === 0 ? a + 1 : a) },
  };
}

async function cannon(
  url: string,
  path: string,
  bodies: string[],
  connections: number,
): Promise<{ ok: number; non2xx: number; errors: number; p50: number; p99: number; reqPerS: number }> {
  const r = await postLoad(url, path, bodies, connections, seconds);
  return {
    ok: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    p50: r.latency.p50,
    p99: r.latency.p99,
    reqPerS: r.requests.average,
  };
}

const out: Record<string, unknown> = { bench: "serve-overload", root, args: values.args, seconds };
process.stderr.write(
  `bench:serve-overload — ${root} ${values.args ?? ""}, ${seconds}s per run, ${availableParallelism()} cores, load ${loadavg()[0]?.toFixed(2)}\n`,
);

if (values.scenario === "all" || values.scenario === "overload") {
  const server = await startServer();
  try {
    const bodies = [0, 1, 2, 3].map((k) =>
      JSON.stringify({ rollouts: Array.from({ length: 200 }, (_, i) => rollout(k * 200 + i)) }),
    );
    for (const connections of [8, 500]) {
      const r = await cannon(server.url, "/v1/rewards", bodies, connections);
      const goodput = (r.ok * 200) / seconds;
      process.stderr.write(
        `overload ${connections} clients × 200 rollouts: goodput ${goodput.toFixed(0)} rollouts/s, ${r.ok} ok, ${r.non2xx} refused, ${r.errors} errors, p50 ${r.p50} ms, p99 ${r.p99} ms\n`,
      );
      out[`c${connections}`] = { goodput_rollouts_per_s: Math.round(goodput), ...r };
    }
  } finally {
    await server.stop();
  }
}

if (values.scenario === "all" || values.scenario === "spike") {
  const server = await startServer();
  try {
    const n = 450_000;
    const big = JSON.stringify({ rollouts: Array.from({ length: n }, (_, i) => rollout(i)) });
    const small = [0, 1, 2, 3].map((k) => {
      const r = rollout(k);
      return openrlhfBody("Add.", r["response"] as string, r["reference"]);
    });
    await cannon(server.url, "/openrlhf", small, 4); // warm up
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssMb(server.pid);
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(server.pid));
    }, 50);
    // The big body goes first, onto an idle server (the case the old rule admitted), and
    // the small clients start 3 s later, once it has been read and decided.
    const t0 = performance.now();
    const bigDone = fetch(`${server.url}/v1/rewards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
    }).then(async (res) => ({ res, text: await res.text(), ms: performance.now() - t0 }));
    await new Promise((r) => setTimeout(r, 3000));
    const smallRun = cannon(server.url, "/openrlhf", small, 32);
    const { res, text, ms: bigMs } = await bigDone;
    const s = await smallRun;
    await new Promise((r) => setTimeout(r, 10_000));
    clearInterval(sampler);
    const after = rssMb(server.pid);
    const failedShare = (s.non2xx + s.errors) / Math.max(1, s.ok + s.non2xx + s.errors);
    process.stderr.write(
      `spike: ${(big.length / 1e6).toFixed(1)} MB body of ${n} rollouts → ${res.status} in ${bigMs.toFixed(0)} ms (${text.slice(0, 160).replace(/\n/g, " ")})\n` +
        `  beside it, 32 one-sample OpenRLHF clients: ${s.ok} ok, ${s.non2xx} refused, ${s.errors} errors (${(failedShare * 100).toFixed(1)} % failed), p99 ${s.p99} ms\n` +
        `  server RSS: ${before} MB before, ${peak} MB peak, ${after} MB 10 s after\n`,
    );
    out["spike"] = {
      body_mb: Number((big.length / 1e6).toFixed(1)),
      rollouts: n,
      status: res.status,
      big_ms: Math.round(bigMs),
      small_ok: s.ok,
      small_failed_share: Number(failedShare.toFixed(4)),
      small_p99_ms: s.p99,
      rss_before_mb: before,
      rss_peak_mb: peak,
      rss_after_mb: after,
    };
  } finally {
    await server.stop();
  }
}
out["load"] = Number(loadavg()[0]?.toFixed(2));
process.stdout.write(`${JSON.stringify(out)}\n`);
