// The Fastify instance every DataScale server route lives on, set up once:
//   - zod schemas in each route's `schema` slot (serve/schema.ts): validation that names the
//     field, responses serialized from the declared schema (Floats as `1.0`);
//   - one error shape for everything, 404s and Fastify's own errors included (serve/http-errors.ts);
//   - admission before parsing (serve/admission.ts) — pools are defined by the modules that own routes;
//   - Prometheus metrics per route and status.
// A module registers its routes on `app` as e.g. src/serve/reward-server.ts does:
//   app.withTypeProvider<ZodTypeProvider>().post("/x",
//     { schema: { body: Req, response: { 200: Res } }, config: { admission: { pool, units, overloadStatus } } },
//     async (req) => ...)
import Fastify, { type FastifyInstance } from "fastify";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { HttpError } from "../core/errors.ts";
import { Admission, countArrayItems } from "./admission.ts";
import { installErrorHandling } from "./http-errors.ts";
import { useZodSchemas } from "./schema.ts";

export interface AppOptions {
  /** Largest request body in bytes (default 64 MiB). */
  bodyLimit?: number;
  /** Bytes of request bodies read or held at once (default 1 GiB). */
  maxQueueBytes?: number;
  logger?: boolean;
}

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<"route" | "status">;
  latency: Histogram<"route">;
  verdicts: Counter<"source" | "verdict">;
  queue: Gauge<"pool">;
}

declare module "fastify" {
  interface FastifyInstance {
    admission: Admission;
    metrics: ServerMetrics;
  }
}

function createMetrics(admission: Admission): ServerMetrics {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({
      name: "datascale_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["route", "status"],
      registers: [registry],
    }),
    latency: new Histogram({
      name: "datascale_request_seconds",
      help: "Request latency by route",
      labelNames: ["route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    verdicts: new Counter({
      name: "datascale_rewards_total",
      help: "Rewards by source and verdict",
      labelNames: ["source", "verdict"],
      registers: [registry],
    }),
    queue: new Gauge({
      name: "datascale_queue_units",
      help: "Work units admitted and not yet answered, by admission pool (rollouts, sandbox runs)",
      labelNames: ["pool"],
      registers: [registry],
      collect() {
        for (const [pool, p] of Object.entries(admission.pools())) this.set({ pool }, p.inflight);
      },
    }),
  };
}

/** Bodies at least this large are counted before JSON.parse, so a request too big to admit costs a scan, not a parse. */
const SCAN_BEFORE_PARSE = 1 << 20;

function parseJson(text: string): unknown {
  if (!text.includes('"__proto__"') && !text.includes('"constructor"')) return JSON.parse(text);
  // The same guard Fastify's default parser has: such keys can poison prototypes in merges.
  return JSON.parse(text, (key, value) => {
    if (key === "__proto__" || (key === "constructor" && value !== null && typeof value === "object"))
      throw new HttpError(400, "bad_request", `body: forbidden key '${key}'`);
    return value;
  });
}

export function createApp(options: AppOptions = {}): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? 64 * 1024 * 1024;
  const admission = new Admission({ bodyLimit, maxQueueBytes: options.maxQueueBytes ?? 1024 ** 3 });
  const app = Fastify({ bodyLimit, logger: options.logger ?? false });
  const metrics = createMetrics(admission);
  app.decorate("admission", admission);
  app.decorate("metrics", metrics);
  useZodSchemas(app);
  installErrorHandling(app, bodyLimit);
  admission.register(app);
  app.removeContentTypeParser("application/json");
  // Bodies are read as bytes (off the JS heap, returned to the system when freed) and only
  // become a string and objects once admitted.
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    const bytes = body as Buffer;
    try {
      if (bytes.length >= SCAN_BEFORE_PARSE) {
        const units = req.routeOptions.config.admission?.units;
        if (typeof units === "string") {
          const n = countArrayItems(bytes, units);
          if (n !== undefined) admission.checkUnits(req, n);
        }
      }
      done(null, bytes.length === 0 ? undefined : parseJson(bytes.toString("utf8")));
    } catch (e) {
      if (e instanceof HttpError) done(e, undefined);
      else done(new HttpError(400, "bad_request", `body: ${e instanceof Error ? e.message : e}`), undefined);
    }
  });
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unknown";
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });
  return app;
}
