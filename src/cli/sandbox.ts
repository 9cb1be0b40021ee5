// `datascale sandbox doctor` and `datascale sandbox run --language L FILE [--stdin FILE]`.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { errorMessage } from "../core/errors.ts";
import { probeIsolation } from "../sandbox/isolation.ts";
import { RUNNERS } from "../sandbox/runners/index.ts";
import { NODE_PREFIX } from "../sandbox/runtime-node.ts";
import { Sandbox } from "../sandbox/sandbox.ts";

const HELP = `usage: datascale sandbox doctor [--json]
       datascale sandbox run --language LANG FILE [--stdin FILE] [options]

doctor   report the isolation this host offers (bubblewrap, user namespaces, cgroup v2,
         rlimits) and run a hello-world in every language inside the sandbox.
run      run one program in the sandbox and print its stdout/stderr; a status line
         goes to stderr. Exit code: the program's, or 1 for limits and errors.

options (run):
  --language LANG   ${RUNNERS.map((r) => r.language).join(", ")} (aliases: ${RUNNERS.flatMap((r) => r.aliases).join(", ")})
  --stdin FILE      feed FILE to the program's stdin ('-' for this process's stdin)
  --time-ms N       CPU-time limit, with a wall-clock backstop at 2× (default 4000)
  --memory-mb N     memory limit (default 512)
  --json            print the full result as one JSON line instead
  --unsafe          run WITHOUT isolation if bubblewrap is unusable (never for untrusted code)
`;

const HELLO: Record<string, string> = {
  python: "import sys; print('hello from python', sys.version.split()[0])",
  javascript: "console.log('hello from node', process.version)",
  typescript: "const v: string = process.version;\nconsole.log('hello from typescript on node', v);",
  cpp: '#include <cstdio>\nint main(){ std::printf("hello from c++ %d\\n", __GNUC__); }',
  go: 'package main\nimport ("fmt"; "runtime")\nfunc main() { fmt.Println("hello from", runtime.Version()) }',
  go_test:
    'package main_test\nimport ("fmt"; "runtime"; "testing")\nfunc TestHello(t *testing.T) { fmt.Println("hello from go test", runtime.Version()) }',
  java: 'public class Main { public static void main(String[] a) { System.out.println("hello from java " + System.getProperty("java.version")); } }',
  rust: 'fn main() { println!("hello from rust"); }',
  bash: 'echo "hello from bash $BASH_VERSION"',
  perl: 'printf("hello from perl %vd\\n", $^V);',
};

async function doctor(json: boolean): Promise<number> {
  const report = probeIsolation();
  const languages: Record<string, string> = {};
  if (report.bwrap.works) {
    const sandbox = new Sandbox({ concurrency: 2, warm: 0, compileCacheBytes: 0 }, report);
    try {
      await Promise.all(
        RUNNERS.map(async (r) => {
          const res = await sandbox.runSubmission({
            language: r.language,
            code: HELLO[r.language] ?? "",
            tests: [{ stdin: "" }],
          });
          const t = res.compile?.status === "ok" || res.compile === undefined ? res.tests[0] : res.compile;
          languages[r.language] =
            t?.status === "ok"
              ? `ok (${t.stdout.trim().split("\n")[0]})`
              : `FAILED: ${t?.status} ${t?.stderr.trim().slice(0, 300)}`;
        }),
      );
    } finally {
      await sandbox.close();
    }
  }
  const healthy = report.bwrap.works && Object.values(languages).every((s) => s.startsWith("ok"));
  if (json) {
    process.stdout.write(`${JSON.stringify({ healthy, ...report, languages })}\n`);
    return healthy ? 0 : 1;
  }
  const lines = [
    `bubblewrap:      ${report.bwrap.works ? "works" : "UNUSABLE"} (${report.bwrap.path ?? "not found"}${report.bwrap.version ? `, ${report.bwrap.version}` : ""})`,
    ...(report.bwrap.error ? [`                 ${report.bwrap.error}`] : []),
    `namespaces:      user, pid, net (no network), ipc, uts, cgroup, mount; max_user_namespaces=${report.userNamespaces ?? "?"}`,
    `submissions:     ${report.nestedNamespaces ? "zygote mode (a warm sandbox forks a freshly namespaced child per submission)" : "fresh mode (a new bubblewrap per submission; nested namespaces unavailable)"}`,
    `sandbox uid:     ${report.uid === undefined ? "the current user (not root)" : `${report.uid} (nobody)`}`,
    `cgroup v2:       ${report.cgroup.v2Mount ?? "not mounted"}; controllers: ${report.cgroup.controllers.join(" ") || "none"}`,
    `                 ${report.cgroup.note}`,
    `rlimits:         ${report.rlimits.join(", ")} (per test)`,
    `node runtime:    ${report.runtime === NODE_PREFIX ? report.runtime : `${report.runtime} (a staged link or copy of ${process.execPath}, which the sandbox user cannot reach)`}`,
    `file system:     read-only /usr; private tmpfs /tmp, /work, /build; no /etc secrets, /root or /home`,
    "languages:",
    ...RUNNERS.map(
      (r) =>
        `  ${r.language.padEnd(12)} ${languages[r.language] ?? "not checked (no isolation)"}${r.packages.length > 0 ? `  [debian: ${r.packages.join(" ")}]` : ""}`,
    ),
    healthy ? "sandbox: healthy" : "sandbox: NOT healthy — untrusted code will not run here",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return healthy ? 0 : 1;
}

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got '${v}'`);
  return n;
}

async function runOne(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      language: { type: "string" },
      stdin: { type: "string" },
      "time-ms": { type: "string" },
      "memory-mb": { type: "string" },
      json: { type: "boolean" },
      unsafe: { type: "boolean" },
    },
  });
  const file = positionals[0];
  if (values.language === undefined || file === undefined || positionals.length !== 1) {
    process.stderr.write(`datascale sandbox run: --language and exactly one FILE are required\n\n${HELP}`);
    return 2;
  }
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path === "-" ? 0 : path, "utf8");
    } catch (e) {
      throw new Error(`${what} ${path}: ${errorMessage(e)}`);
    }
  };
  const code = read(file, "cannot read program");
  const stdin = values.stdin === undefined ? "" : read(values.stdin, "cannot read stdin file");
  const limits = {
    ...(positiveInt("--time-ms", values["time-ms"]) === undefined
      ? {}
      : { timeMs: Number(values["time-ms"]) }),
    ...(positiveInt("--memory-mb", values["memory-mb"]) === undefined
      ? {}
      : { memoryMb: Number(values["memory-mb"]) }),
  };
  const sandbox = new Sandbox({ concurrency: 1, warm: 0, unsafe: values.unsafe ?? false });
  if (sandbox.isolation === "unsafe")
    process.stderr.write("datascale sandbox: WARNING: running without isolation (--unsafe)\n");
  try {
    const res = await sandbox.runSubmission({ language: values.language, code, tests: [{ stdin }], limits });
    const compileFailed = res.compile !== undefined && res.compile.status !== "ok";
    const r = compileFailed ? res.compile : res.tests[0];
    if (r === undefined) throw new Error("the sandbox returned no result");
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ compile: res.compile ?? null, run: compileFailed ? null : r })}\n`,
      );
    } else {
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.stderr.write(
        `[${r.status}] exit=${r.exitCode ?? "-"}${r.signal === null ? "" : ` signal=${r.signal}`} wall=${r.wallMs.toFixed(1)}ms cpu=${r.cpuMs.toFixed(1)}ms mem=${r.memoryKb}KiB${r.stdoutTruncated ? " (stdout truncated)" : ""}\n`,
      );
    }
    return r.status === "ok" ? 0 : (r.exitCode ?? 1) || 1;
  } finally {
    await sandbox.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "doctor") return doctor(rest.includes("--json"));
  if (sub === "run") return runOne(rest);
  if (sub === undefined || sub === "--help" || sub === "-h") {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  process.stderr.write(`datascale sandbox: unknown subcommand '${sub}'\n\n${HELP}`);
  return 2;
}
