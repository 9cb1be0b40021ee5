// Kernel selection: by name (flag), else DATASCALE_KERNEL, else the fastest that loads.
import { createBlasKernel, loadBlasAddon } from "./blas.ts";
import { createTsKernel } from "./ts.ts";
import type { Kernel, KernelName } from "./types.ts";
import { createWasmKernel } from "./wasm.ts";

export interface KernelOptions {
  /** Threads for the parallel kernels (default: available cores). */
  threads?: number;
}

const NAMES: readonly KernelName[] = ["ts", "wasm", "blas"];

export function parseKernelName(value: string, source: string): KernelName {
  if ((NAMES as readonly string[]).includes(value)) return value as KernelName;
  throw new Error(`${source}: unknown kernel '${value}' (expected one of ${NAMES.join(", ")})`);
}

/** Kernels that can be created on this machine, fastest last. */
export function availableKernels(): KernelName[] {
  return typeof loadBlasAddon() === "string" ? ["ts", "wasm"] : ["ts", "wasm", "blas"];
}

export function createKernel(name: KernelName, options: KernelOptions = {}): Kernel {
  switch (name) {
    case "ts":
      return createTsKernel("f32");
    case "wasm":
      return createWasmKernel(options.threads === undefined ? {} : { threads: options.threads });
    case "blas":
      return createBlasKernel(options.threads === undefined ? {} : { threads: options.threads });
  }
}

/** Which kernel `selectKernel(requested)` picks, and why, without creating it. */
export function kernelChoice(requested?: string): { name: KernelName; reason: string } {
  const fromEnv = process.env["DATASCALE_KERNEL"];
  if (requested !== undefined && requested !== "auto")
    return { name: parseKernelName(requested, "--kernel"), reason: "asked for (--kernel)" };
  if (fromEnv !== undefined && fromEnv !== "")
    return { name: parseKernelName(fromEnv, "DATASCALE_KERNEL"), reason: "asked for (DATASCALE_KERNEL)" };
  const blas = loadBlasAddon();
  return typeof blas === "string"
    ? { name: "wasm", reason: `fastest available: blas is not (${blas})` }
    : { name: "blas", reason: "fastest available: the native addon loads" };
}

/**
 * The kernel to use: `requested` (a flag; "auto" or undefined means no preference) or
 * DATASCALE_KERNEL when set — an error if it cannot load, since the user asked for it —
 * else the best available (blas when the native addon loads, else wasm).
 */
export function selectKernel(requested?: string, options: KernelOptions = {}): Kernel {
  return createKernel(kernelChoice(requested).name, options);
}
