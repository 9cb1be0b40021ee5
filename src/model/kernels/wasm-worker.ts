// A WASM kernel worker: instantiates the module on the shared memory, then waits on the
// control block's generation counter and claims units of each posted job.
import { workerData } from "node:worker_threads";
import { GEN, type GemmExports, workOnJob } from "./wasm-shared.ts";

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
const ctrlF = new Float32Array(init.ctrl);
// The generation starts at 0; a job posted before this worker started is still seen.
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, GEN, seen);
  const gen = Atomics.load(ctrl, GEN);
  if (gen === seen) continue;
  seen = gen;
  if (gen < 0) break;
  workOnJob(ctrl, ctrlF, exp, init.memory, init.index);
}
