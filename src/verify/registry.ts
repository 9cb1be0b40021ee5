// Domain → verifier. Families are loaded lazily so that a worker verifying math never
// loads the sandbox, and adding a family is one line in LOADERS and a folder of its own.
// Users add their own families as plugins: a module exporting `createVerifier()`.

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DataScaleError } from "../core/errors.ts";
import type { Rollout } from "../core/schemas.ts";
import type { Verifier } from "./types.ts";

type Loader = () => Promise<Verifier>;

const LOADERS: Readonly<Record<string, Loader>> = {
  logic: () => import("./logic/index.ts").then((m) => m.createLogicVerifier()),
  instruction: async () => (await import("./instruct/verifier.ts")).createInstructionVerifier(),
  code: async () => (await import("./code/index.ts")).createCodeVerifier(),
  math: async () => (await import("./math/index.ts")).createMathVerifier(),
  qa: async () => (await import("./qa/index.ts")).createQaVerifier(),
};

export function knownDomains(): string[] {
  return Object.keys(LOADERS);
}

/**
 * The verifier domain for a rollout. Procedural tasks (src/tasks) name their family in
 * `reference.family` and are checked by that family's own checker, served by `logic`,
 * whatever domain they declare for curricula (a `code_output` task is domain `code` but has
 * an answer, not tests). Everything else goes by its domain.
 */
export function verifierDomain(r: Rollout): string {
  const family = r.reference?.["family"];
  return typeof family === "string" && r.reference?.tests === undefined ? "logic" : r.domain;
}

/** A module path or specifier exporting `createVerifier(): Verifier | Promise<Verifier>`. */
export type PluginSpec = string;

function pluginUrl(spec: PluginSpec): string {
  if (spec.startsWith(".") || isAbsolute(spec)) return pathToFileURL(resolve(spec)).href;
  return spec;
}

export async function loadPlugin(spec: PluginSpec): Promise<Verifier> {
  let mod: { createVerifier?: unknown };
  try {
    mod = (await import(pluginUrl(spec))) as { createVerifier?: unknown };
  } catch (e) {
    throw new DataScaleError("plugin_load", `verifier plugin ${spec}: ${e instanceof Error ? e.message : e}`);
  }
  if (typeof mod.createVerifier !== "function") {
    throw new DataScaleError("plugin_shape", `verifier plugin ${spec}: does not export createVerifier()`);
  }
  const v = (await mod.createVerifier()) as Verifier;
  if (typeof v?.domain !== "string" || typeof v.verify !== "function" || typeof v.source !== "string") {
    throw new DataScaleError(
      "plugin_shape",
      `verifier plugin ${spec}: createVerifier() must return {domain, source, verify}`,
    );
  }
  return v;
}

/** Loads each family at most once per registry (one registry per worker). */
export class VerifierRegistry {
  readonly #loaded = new Map<string, Promise<Verifier>>();
  readonly #plugins: Promise<Map<string, Verifier>>;

  constructor(plugins: readonly PluginSpec[] = []) {
    this.#plugins = Promise.all(plugins.map(loadPlugin)).then((vs) => new Map(vs.map((v) => [v.domain, v])));
    // Rejections surface through domains()/get(); keep them from being reported as unhandled.
    this.#plugins.catch(() => undefined);
  }

  /** Every domain this registry serves: built-ins plus plugins (plugins win). */
  async domains(): Promise<string[]> {
    const plugins = await this.#plugins;
    return [...new Set([...knownDomains(), ...plugins.keys()])].sort();
  }

  /** The verifier for a domain, or undefined when no family serves it. */
  async get(domain: string): Promise<Verifier | undefined> {
    const plugin = (await this.#plugins).get(domain);
    if (plugin !== undefined) return plugin;
    const load = LOADERS[domain];
    if (load === undefined) return undefined;
    let v = this.#loaded.get(domain);
    if (v === undefined) {
      v = load();
      this.#loaded.set(domain, v);
    }
    return v;
  }
}
