// Domain → verifier. Families are loaded lazily so that a worker verifying math never
// loads the sandbox, and adding a family is one line in LOADERS and a folder of its own.
import type { Verifier } from "./types.ts";

type Loader = () => Promise<Verifier>;

const LOADERS: Readonly<Record<string, Loader>> = {};

export function knownDomains(): string[] {
  return Object.keys(LOADERS);
}

/** Loads each family at most once per registry (one registry per worker). */
export class VerifierRegistry {
  readonly #loaded = new Map<string, Promise<Verifier>>();

  /** The verifier for a domain, or undefined when no family serves it. */
  get(domain: string): Promise<Verifier> | undefined {
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
