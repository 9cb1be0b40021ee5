// Admission: how much work the server takes on, decided as early as the information allows.
//   onRequest (headers only): a Content-Length over the body limit, or over the whole byte
//     budget of the queue, is refused for good (413); a full queue (its units, or the bytes of
//     bodies being read and held) is refused at once with the status the route's client
//     retries on — before a byte of the body is parsed.
//   preValidation (parsed, not yet validated): a request of more units than the whole queue
//     is refused for good (413); one that does not fit now is refused as overload.
// Units (rollouts, sandbox runs) stay reserved until the route has answered, so a client that
// times out and retries cannot pile work on work. A route opts in with `config.admission`:
//   app.post("/x", { config: { admission: { pool: "rollouts", units: (b) => ..., overloadStatus: 429 } } }, h)
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpError } from "../core/errors.ts";

export interface RouteAdmission {
  /** The counter this route draws on (e.g. "rollouts", "sandbox"). */
  pool: string;
  /**
   * Work units of a request: a number (each request is that many units, e.g. one sandbox run),
   * or the name of a top-level array field whose length is the count (e.g. "rollouts"; a large
   * body is counted by a scan of its text before it is parsed).
   */
  units: number | string;
  /** What this route's clients retry on: 429 (default), 503, or 504 (verl's SandboxFusion client). */
  overloadStatus?: 429 | 503 | 504;
}

declare module "fastify" {
  interface FastifyContextConfig {
    admission?: RouteAdmission;
  }
}

export interface AdmissionLimits {
  /** Largest request body in bytes. */
  bodyLimit: number;
  /** Bytes of request bodies read or held at once. */
  maxQueueBytes: number;
}

interface Pool {
  limit: number;
  inflight: number;
  /** Where the limit comes from, for the 413 message (e.g. "--max-queue"). */
  flag: string;
}

interface Held {
  bytes: number;
  units: number;
  pool: Pool | undefined;
  working: boolean;
  released: boolean;
}

/** The length of an array field of a body, or 0 when the body is not that shape (validation says why). */
export function arrayLength(body: unknown, field: string): number {
  const v = (body as Record<string, unknown> | null)?.[field];
  return Array.isArray(v) ? v.length : 0;
}

/** End of the JSON string opening at byte `i` (the index of its closing quote), or -1. */
function stringEnd(bytes: Buffer, i: number): number {
  let j = i + 1;
  for (;;) {
    j = bytes.indexOf(34, j);
    if (j === -1) return -1;
    let k = j - 1;
    while (bytes[k] === 92) k--;
    if ((j - 1 - k) % 2 === 0) return j;
    j++;
  }
}

/**
 * Items of the top-level array `field` of a JSON object's UTF-8 bytes, without parsing it: a
 * scan that jumps over strings with indexOf (bodies are mostly response text; UTF-8
 * continuation bytes never look like JSON punctuation). Undefined when the body is not an
 * object holding that array (the parser then says why).
 */
export function countArrayItems(bytes: Buffer, field: string): number | undefined {
  let depth = 0;
  let key = "";
  let inside = false;
  let commas = 0;
  let seen = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c === 34) {
      const end = stringEnd(bytes, i);
      if (end === -1) return undefined;
      if (inside && depth === 2) seen = true;
      else if (depth === 1 && !inside && end - i <= 64) key = bytes.toString("utf8", i + 1, end);
      i = end;
    } else if (c === 123 || c === 91) {
      if (inside && depth === 2) seen = true;
      else if (c === 91 && depth === 1 && key === field) inside = true;
      depth++;
    } else if (c === 125 || c === 93) {
      depth--;
      if (inside && depth === 1) return seen ? commas + 1 : 0;
    } else if (inside && depth === 2) {
      if (c === 44) commas++;
      else if (c > 32) seen = true;
    }
  }
  return undefined;
}

export class Admission {
  readonly limits: AdmissionLimits;
  readonly #pools = new Map<string, Pool>();
  readonly #held = new WeakMap<FastifyRequest, Held>();
  bytesInFlight = 0;
  /** Requests refused as overload, by pool. */
  readonly refused = new Map<string, number>();

  constructor(limits: AdmissionLimits) {
    this.limits = limits;
  }

  definePool(name: string, limit: number, flag: string): void {
    this.#pools.set(name, { limit, inflight: 0, flag });
  }

  /** Units in flight and the limit, per pool. */
  pools(): Record<string, { inflight: number; limit: number }> {
    const out: Record<string, { inflight: number; limit: number }> = {};
    for (const [name, p] of this.#pools) out[name] = { inflight: p.inflight, limit: p.limit };
    return out;
  }

  #overload(cfg: RouteAdmission, why: string): HttpError {
    this.refused.set(cfg.pool, (this.refused.get(cfg.pool) ?? 0) + 1);
    return new HttpError(cfg.overloadStatus ?? 429, "overloaded", why, 1);
  }

  #pool(cfg: RouteAdmission): Pool {
    const pool = this.#pools.get(cfg.pool);
    if (pool === undefined) throw new HttpError(500, "internal", `no admission pool '${cfg.pool}'`);
    return pool;
  }

  #release(held: Held): void {
    if (held.released) return;
    held.released = true;
    this.bytesInFlight -= held.bytes;
    if (held.pool !== undefined) held.pool.inflight -= held.units;
  }

  /** Bytes per unit seen on each route (a running mean), to estimate a request's units from its Content-Length. */
  readonly #bytesPerUnit = new WeakMap<RouteAdmission, number>();

  /** The units a request of `length` bytes probably holds, before its body is read. */
  #estimate(cfg: RouteAdmission, length: number): number {
    if (typeof cfg.units === "number") return cfg.units;
    const perUnit = this.#bytesPerUnit.get(cfg);
    return perUnit === undefined ? 1 : Math.max(1, Math.floor(length / perUnit));
  }

  #learn(cfg: RouteAdmission, length: number, units: number): void {
    if (typeof cfg.units === "number" || units === 0 || length === 0) return;
    const seen = this.#bytesPerUnit.get(cfg);
    const now = length / units;
    this.#bytesPerUnit.set(cfg, seen === undefined ? now : seen * 0.9 + now * 0.1);
  }

  /**
   * Makes the request's reservation `units` (it held an estimate until now), or throws:
   * 413 if it can never fit, the route's overload status if it does not fit now.
   */
  checkUnits(req: FastifyRequest, units: number): void {
    const cfg = req.routeOptions.config.admission;
    const held = this.#held.get(req);
    if (cfg === undefined || held === undefined) return;
    const pool = this.#pool(cfg);
    if (units > pool.limit) {
      throw new HttpError(
        413,
        "too_many_units",
        `${units} ${cfg.pool} in one request exceed the whole queue (${pool.flag} ${pool.limit}); split the request`,
      );
    }
    const others = pool.inflight - held.units;
    if (others + units > pool.limit) {
      throw this.#overload(
        cfg,
        `queue full (${others} ${cfg.pool} in flight + ${units} > limit ${pool.limit})`,
      );
    }
    pool.inflight = others + units;
    held.units = units;
  }

  /** Installs the hooks; routes without `config.admission` (health, metrics) are never refused. */
  register(app: FastifyInstance): void {
    const { bodyLimit, maxQueueBytes } = this.limits;
    app.addHook("onRequest", async (req, reply) => {
      const cfg = req.routeOptions.config.admission;
      if (cfg === undefined) return;
      const length = Number(req.headers["content-length"] ?? 0) || 0;
      if (length > bodyLimit) {
        throw new HttpError(
          413,
          "body_too_large",
          `the request body (${length} bytes) is larger than the body limit of ${bodyLimit} bytes (--body-limit); split the request`,
        );
      }
      if (length > maxQueueBytes) {
        throw new HttpError(
          413,
          "body_too_large",
          `the request body (${length} bytes) is larger than the whole queue (--max-queue-bytes ${maxQueueBytes}); split the request`,
        );
      }
      // Bodies being read hold their estimated units, so a burst of requests cannot all be
      // parsed only to be refused; the estimate becomes the count in preValidation.
      const pool = this.#pool(cfg);
      const est = Math.min(this.#estimate(cfg, length), pool.limit);
      if (pool.inflight + est > pool.limit) {
        throw this.#overload(cfg, `queue full (${pool.inflight} ${cfg.pool} in flight, limit ${pool.limit})`);
      }
      if (this.bytesInFlight > 0 && this.bytesInFlight + length > maxQueueBytes) {
        throw this.#overload(
          cfg,
          `queue full (${this.bytesInFlight} bytes of requests in flight, limit ${maxQueueBytes})`,
        );
      }
      const held: Held = { bytes: length, units: est, pool, working: false, released: false };
      pool.inflight += est;
      this.bytesInFlight += length;
      this.#held.set(req, held);
      // A request that dies before its handler runs frees its reservation here; one whose
      // handler runs keeps it until the handler has answered (onSend), however the client left.
      reply.raw.once("close", () => {
        if (!held.working) this.#release(held);
      });
    });
    app.addHook("preValidation", async (req) => {
      const cfg = req.routeOptions.config.admission;
      const held = this.#held.get(req);
      if (cfg === undefined || held === undefined) return;
      const units = typeof cfg.units === "number" ? cfg.units : arrayLength(req.body, cfg.units);
      this.checkUnits(req, units);
      this.#learn(cfg, held.bytes, units);
    });
    app.addHook("preHandler", async (req) => {
      const held = this.#held.get(req);
      if (held !== undefined) held.working = true;
    });
    app.addHook("onSend", async (req) => {
      const held = this.#held.get(req);
      if (held !== undefined) this.#release(held);
    });
  }
}
