// Go with Debian's toolchain (package `golang-go`): `go build` of one file, compiled
// inside the sandbox like C++. Its build cache lives in the submission's /tmp (wiped after
// the tests); cgo is off, so no C compiler runs and the binary is static.
import type { Limits } from "../types.ts";
import type { Runner } from "./types.ts";

/**
 * Address space Go's runtime reserves at start beyond its heap (page summaries, arena
 * index: a hello-world needs ~750 MB of RLIMIT_AS). The heap itself is steered by
 * GOMEMLIMIT = the memory limit, so RLIMIT_AS = limit + this slack is the hard cap.
 */
export const GO_RESERVE_MB = 1024;

export const go: Runner = {
  language: "go",
  aliases: ["golang"],
  fenceTags: ["go", "golang"],
  sourceName: "main.go",
  hostPaths: [],
  packages: ["golang-go"],
  env: (p, l) => ({
    GOMEMLIMIT: `${l.memoryMb}MiB`,
    GOCACHE: `${p.tmp}/go-cache`,
    GOPATH: `${p.tmp}/go`,
    GO111MODULE: "auto",
    GOFLAGS: "-mod=mod",
    GOPROXY: "off",
    GOTOOLCHAIN: "local",
    CGO_ENABLED: "0",
    GOTELEMETRY: "off",
  }),
  // -s -w: no symbol table or DWARF, a third smaller on its way to the compile cache.
  compile: (p) => ["/usr/bin/go", "build", "-ldflags=-s -w", "-o", `${p.build}/main`, `${p.build}/main.go`],
  // The go command runs compile and link as subprocesses, each with its runtime's threads.
  compileLimits: (l: Limits) => ({
    ...l,
    memoryMb: l.memoryMb + GO_RESERVE_MB,
    processes: Math.max(l.processes, 256),
  }),
  run: (p) => ({ kind: "exec", argv: [`${p.build}/main`] }),
  limits: (l: Limits) => ({ ...l, memoryMb: l.memoryMb + GO_RESERVE_MB }),
};

/**
 * SandboxFusion's `go_test`: the source is a `_test.go` file (MultiPL-E's Go HumanEval),
 * built with `go test -c` into a test binary whose exit status is the verdict.
 */
export const goTest: Runner = {
  ...go,
  language: "go_test",
  aliases: [],
  sourceName: "main_test.go",
  compile: (p) => [
    "/usr/bin/go",
    "test",
    "-c",
    "-ldflags=-s -w",
    "-o",
    `${p.build}/main.test`,
    `${p.build}/main_test.go`,
  ],
  run: (p) => ({ kind: "exec", argv: [`${p.build}/main.test`] }),
};
