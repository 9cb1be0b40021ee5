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

/**
 * The kernel to use: `requested` (a flag) or DATASCALE_KERNEL when set — an error if it
 * cannot load, since the user asked for it — else the best available.
 */
export function selectKernel(requested?: string, options: KernelOptions = {}): Kernel {
  const fromEnv = process.env["DATASCALE_KERNEL"];
  if (requested !== undefined) return createKernel(parseKernelName(requested, "--kernel"), options);
  if (fromEnv !== undefined && fromEnv !== "")
    return createKernel(parseKernelName(fromEnv, "DATASCALE_KERNEL"), options);
  const names = availableKernels();
  return createKernel(names[names.length - 1]!, options);
}
