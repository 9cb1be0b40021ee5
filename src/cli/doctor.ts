// `datascale doctor [--kernel ts|wasm|blas] [--json]`: what this machine offers the
// embedded engine — runtime, cores, the compute kernels that load, which one is selected,
// and a quick GEMM check (correctness against the reference, GFLOP/s).
import { availableParallelism, cpus } from "node:os";
import { parseArgs } from "node:util";
import { availableKernels, createKernel, kernelChoice, selectKernel } from "../model/kernels/index.ts";
import { tsMatmul } from "../model/kernels/ts.ts";
import type { Kernel } from "../model/kernels/types.ts";
import { relaxedSimdSupported } from "../model/kernels/wasm.ts";
import { Rng } from "../model/rng.ts";

const HELP = `usage: datascale doctor [--kernel ts|wasm|blas] [--json]

Shows the runtime, the compute kernels that load here, the one the engine will use and
why (--kernel, else DATASCALE_KERNEL, else the fastest: blas when native/build/blas.node
loads — npm install builds it when a C compiler and OpenBLAS headers are present — else
wasm), and checks each kernel's GEMM.
`;

interface KernelReport {
  name: string;
  detail: string;
  ok: boolean;
  max_error: number;
  gflops: number;
}

function checkKernel(k: Kernel): KernelReport {
  const M = 64;
  const N = 256;
  const K = 256;
  const rng = new Rng(3);
  const A = k.alloc(M * K);
  const B = k.alloc(N * K);
  const C = k.alloc(M * N);
  for (let i = 0; i < A.length; i++) A[i] = rng.normal();
  for (let i = 0; i < B.length; i++) B[i] = rng.normal();
  const want = new Float64Array(M * N);
  tsMatmul("n", "t", M, N, K, Float64Array.from(A), Float64Array.from(B), want, false);
  k.matmul("n", "t", M, N, K, A, B, C, false);
  let err = 0;
  for (let i = 0; i < want.length; i++)
    err = Math.max(err, Math.abs(C[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  const reps = k.name === "ts" ? 3 : 20;
  const t = performance.now();
  for (let r = 0; r < reps; r++) k.matmul("n", "t", M, N, K, A, B, C, false);
  const ms = (performance.now() - t) / reps;
  return {
    name: k.name,
    detail: k.detail,
    ok: err < 1e-4,
    max_error: err,
    gflops: (2 * M * N * K) / ms / 1e6,
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kernel: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const choice = kernelChoice(values.kernel);
  const selected = selectKernel(values.kernel);
  const selectedName = selected.name;
  const selectedDetail = selected.detail;
  selected.close();
  const kernels: KernelReport[] = [];
  for (const name of availableKernels()) {
    const k = createKernel(name);
    try {
      kernels.push(checkKernel(k));
    } finally {
      k.close();
    }
  }
  const report = {
    node: process.versions.node,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    relaxed_simd: relaxedSimdSupported(),
    kernel_env: process.env["DATASCALE_KERNEL"] ?? null,
    kernel: selectedName,
    kernel_detail: selectedDetail,
    kernel_reason: choice.reason,
    kernels,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const lines = [
      `node     ${report.node}`,
      `cpu      ${report.cpu} (${report.cores} cores)`,
      `simd     relaxed-SIMD ${report.relaxed_simd ? "available" : "not available"}`,
      `kernel   ${report.kernel}: ${report.kernel_detail}`,
      `         why: ${report.kernel_reason}${report.kernel_env ? ` (DATASCALE_KERNEL=${report.kernel_env})` : ""}`,
      "kernels:",
      ...kernels.map(
        (k) =>
          `  ${k.name.padEnd(5)} ${k.ok ? "ok  " : "FAIL"} ${k.gflops.toFixed(1).padStart(6)} GFLOP/s  max err ${k.max_error.toExponential(1)}  ${k.detail}`,
      ),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  return kernels.every((k) => k.ok) ? 0 : 1;
}
