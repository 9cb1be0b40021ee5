// `datascale doctor` reports the kernel in use and honours --kernel and DATASCALE_KERNEL.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

function doctor(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [main, "doctor", ...args], {
    encoding: "utf8",
    env: { ...process.env, DATASCALE_KERNEL: "", ...env },
  });
  return r;
}

test("doctor --json lists the kernels, checks them, and shows the selected one", () => {
  const r = doctor(["--json"]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { kernel: string; kernels: { name: string; ok: boolean }[] };
  const names = report.kernels.map((k) => k.name);
  assert.ok(names.includes("ts") && names.includes("wasm"), names.join(","));
  assert.ok(report.kernels.every((k) => k.ok));
  assert.equal(report.kernel, names.at(-1), "default is the fastest available");
  const why = (report as unknown as { kernel_reason: string }).kernel_reason;
  if (report.kernel === "blas") assert.match(why, /fastest available: the native addon loads/);
  else assert.match(why, /fastest available: blas is not \(native\/build\/blas\.node/);
  const text = doctor([]);
  assert.match(text.stdout, /^ {9}why: fastest available/m, "the text report says why too");
});

test("doctor honours DATASCALE_KERNEL and --kernel, and names a bad value", () => {
  const env = JSON.parse(doctor(["--json"], { DATASCALE_KERNEL: "ts" }).stdout) as { kernel: string };
  assert.equal(env.kernel, "ts");
  assert.equal((env as unknown as { kernel_reason: string }).kernel_reason, "asked for (DATASCALE_KERNEL)");
  const flag = JSON.parse(doctor(["--json", "--kernel", "wasm"], { DATASCALE_KERNEL: "ts" }).stdout) as {
    kernel: string;
  };
  assert.equal(flag.kernel, "wasm");
  const bad = doctor(["--kernel", "gpu"]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--kernel: unknown kernel 'gpu'/);
});
