// Several stateless server processes on one port (node:cluster). The primary forks them,
// prints the address once all listen, restarts one that dies, and answers /metrics requests
// that any of them receives with the sum over all of them (prom-client's AggregatorRegistry
// over the IPC channel), so a scrape that lands on any process sees the whole server.
//   balance "reuseport": each process has its own SO_REUSEPORT socket and the kernel spreads
//     connections (no hop through the primary); "rr": the primary accepts and hands sockets
//     out round-robin (Node's default for cluster).
import cluster from "node:cluster";
import { createServer } from "node:net";
import { AggregatorRegistry, type Registry } from "prom-client";

export type Balance = "reuseport" | "rr";

const METRICS_REQ = "datascale:metrics-req";
const METRICS_RES = "datascale:metrics-res";
const LISTENING = "datascale:listening";

interface Msg {
  type: string;
  id?: number;
  text?: string;
  error?: string;
  address?: string;
}

/** Reserves a free port for a reuseport group; the returned close() frees the reservation. */
async function reservePort(host: string, port: number): Promise<{ port: number; close: () => void }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port, reusePort: true }, resolve);
  });
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

export interface PrimaryOptions {
  processes: number;
  host: string;
  port: number;
  balance: Balance;
  /** Printed once every process listens, with the address. */
  onListening: (address: string) => void;
}

/** Runs the primary until SIGINT/SIGTERM; returns the exit code. */
export async function runPrimary(o: PrimaryOptions): Promise<number> {
  const reserved = o.balance === "reuseport" ? await reservePort(o.host, o.port) : undefined;
  const env = {
    DATASCALE_SERVE_PORT: String(reserved?.port ?? o.port),
    DATASCALE_SERVE_BALANCE: o.balance,
  };
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let listening = 0;
  cluster.on("message", (worker, msg: Msg) => {
    if (msg.type === LISTENING) {
      if (++listening === o.processes) {
        reserved?.close();
        o.onListening(msg.address ?? "");
      }
    } else if (msg.type === METRICS_REQ) {
      aggregator.clusterMetrics().then(
        (text) => worker.send({ type: METRICS_RES, id: msg.id, text }),
        (e: Error) => worker.send({ type: METRICS_RES, id: msg.id, error: e.message }),
      );
    }
  });
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(
      `serve-reward: process ${worker.process.pid} exited (${signal ?? code}); starting another\n`,
    );
    cluster.fork(env);
  });
  for (let i = 0; i < o.processes; i++) cluster.fork(env);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  stopping = true;
  reserved?.close();
  const exits = Object.values(cluster.workers ?? {}).map(
    (w) =>
      new Promise<void>((resolve) => {
        if (w === undefined || w.isDead()) return resolve();
        w.once("exit", () => resolve());
        w.process.kill("SIGTERM");
      }),
  );
  await Promise.all(exits);
  return 0;
}

/** In a process forked by runPrimary: where to listen, or undefined when not forked. */
export function workerListen(
  host: string,
): { host: string; port: number; exclusive: boolean; reusePort: boolean } | undefined {
  if (!cluster.isWorker) return undefined;
  const reuse = process.env["DATASCALE_SERVE_BALANCE"] === "reuseport";
  return { host, port: Number(process.env["DATASCALE_SERVE_PORT"]), exclusive: reuse, reusePort: reuse };
}

/** In a forked process: reports the address to the primary and returns a cluster-wide /metrics reader. */
export function joinCluster(registry: Registry, address: string): () => Promise<string> {
  new AggregatorRegistry(); // installs the listener that answers the primary's collection
  AggregatorRegistry.setRegistries([registry]);
  process.send?.({ type: LISTENING, address } satisfies Msg);
  let next = 0;
  const waiting = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();
  process.on("message", (msg: Msg) => {
    if (msg.type !== METRICS_RES || msg.id === undefined) return;
    const w = waiting.get(msg.id);
    waiting.delete(msg.id);
    if (msg.error !== undefined) w?.reject(new Error(msg.error));
    else w?.resolve(msg.text ?? "");
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      process.send?.({ type: METRICS_REQ, id } satisfies Msg);
    });
}
