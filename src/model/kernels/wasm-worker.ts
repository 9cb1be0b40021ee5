// A WASM kernel worker: instantiates the GEMM module on the shared memory, then waits on the
// control block's generation counter and runs its slice of each job.
import { workerData } from "node:worker_threads";
import { CTRL_HEADER, type GemmExports, JOB_WORDS, runJob } from "./wasm-shared.ts";

interface Init {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: SharedArrayBuffer;
  index: number;
}

const init = workerData as Init;
const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
const exp = instance.exports as unknown as GemmExports;
const ctrl = new Int32Array(init.ctrl);
const base = CTRL_HEADER + init.index * JOB_WORDS;
// The generation starts at 0; a job posted before this worker started is still seen.
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, 0, seen);
  const gen = Atomics.load(ctrl, 0);
  if (gen === seen) continue;
  seen = gen;
  if (gen < 0) break;
  if (ctrl[base] !== 0) runJob(ctrl, base, exp, init.memory);
  Atomics.add(ctrl, 1, 1);
  Atomics.notify(ctrl, 1);
}
