// Hostile programs in every language, each asserting a guarantee observable on the host:
// nothing leaks in or out, the host process survives, nothing outlives the run, and every
// run ends within its limits with the right status.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Sandbox } from "../../src/sandbox/sandbox.ts";
import type { ExecResult, Limits } from "../../src/sandbox/types.ts";
import { descendantsOf, hostProcessesMatching, type LoopbackTrap, loopbackTrap, SMALL } from "./helpers.ts";

// security-fresh.test.ts runs this whole suite again in fresh mode (one bwrap per submission).
const MODE: "zygote" | "fresh" = process.env.DATASCALE_TEST_SANDBOX_MODE === "fresh" ? "fresh" : "zygote";
const CANARY = `datascale-canary-${process.pid}-${Date.now()}`;
process.env.DATASCALE_SECRET_CANARY = CANARY;

let sandbox: Sandbox;
let hostDir: string;
let trap: LoopbackTrap;

async function run(
  language: string,
  code: string,
  limits: Partial<Limits> = {},
  stdin = "",
): Promise<ExecResult> {
  const r = await sandbox.runSubmission({
    language,
    code,
    tests: [{ stdin }],
    limits: { ...SMALL, ...limits },
    compileLimits: { timeMs: 8000, memoryMb: 1024 },
  });
  if (r.compile !== undefined && r.compile.status !== "ok") return r.compile;
  const t = r.tests[0];
  assert.ok(t, "a result for the test");
  return t;
}

/** `limitMs` is the run's wall limit; 500 ms of slack (by default) covers kill and teardown. */
function endedWithin(r: ExecResult, limitMs: number, slackMs = 500): void {
  assert.ok(r.wallMs <= limitMs + slackMs, `ran ${r.wallMs} ms, limit ${limitMs} ms`);
}

before(async () => {
  sandbox = new Sandbox({ concurrency: 2, warm: 2, tmpfsBytes: 16 << 20, mode: MODE });
  hostDir = mkdtempSync(join(tmpdir(), "datascale-sec-"));
  trap = await loopbackTrap();
});

after(async () => {
  await sandbox.close();
  await trap.close();
  rmSync(hostDir, { recursive: true, force: true });
  assert.equal(trap.connections, 0, "no sandboxed program reached the host's loopback server");
  // Every sandbox (warm or used) is gone: none of our processes runs as the sandbox uid.
  // (Anything that escaped its PID namespace would be caught by the marker checks below.)
  const uid = sandbox.report.uid ?? process.getuid?.() ?? 0;
  const deadline = Date.now() + 3000;
  while (descendantsOf(process.pid, uid).length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(descendantsOf(process.pid, uid), [], "no process outlives the sandboxes");
});

describe("isolation is real", () => {
  it("runs under bubblewrap, never unsafe, and refuses without isolation", () => {
    assert.equal(sandbox.isolation, "bwrap");
    assert.throws(
      () =>
        new Sandbox(
          {},
          { ...sandbox.report, bwrap: { ...sandbox.report.bwrap, works: false, error: "probe said no" } },
        ),
      /refusing to run untrusted code/,
    );
  });

  it("sees its own PID namespace, a cleared environment and no host secrets (python)", async () => {
    const r = await run(
      "python",
      `import os, glob
print("pid", os.getpid())
print("pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
print("env", dict(os.environ))
for p in glob.glob("/proc/*/environ"):
    try: print(p, open(p, "rb").read())
    except Exception as e: print(p, "denied", type(e).__name__)
for p in ["/etc/shadow", "/etc/passwd", "/root/.bashrc", "/proc/1/root/etc/shadow", "/proc/self/root/etc/shadow"]:
    try: print(p, open(p).read()[:200])
    except Exception as e: print(p, "unreadable", type(e).__name__)
try: print("root", os.listdir("/root"))
except Exception as e: print("root unreadable", type(e).__name__)
print("uid", os.getuid(), os.geteuid())
`,
    );
    assert.equal(r.status, "ok", r.stderr);
    assert.ok(!r.stdout.includes(CANARY), "parent environment leaked");
    assert.ok(!/root:[^:]*:\d+:/.test(r.stdout), "a shadow/passwd line leaked");
    assert.match(r.stdout, /\/etc\/shadow unreadable/);
    assert.match(r.stdout, /root unreadable/);
    const pids = JSON.parse(/pids (\[.*\])/.exec(r.stdout)?.[1] ?? "[]") as number[];
    assert.ok(pids.length <= 4 && !pids.includes(process.pid), `host pids visible: ${pids}`);
    assert.doesNotMatch(r.stdout, /uid 0 /, "runs as root");
  });

  it("cannot read the parent's environment or host files (javascript, child_process)", async () => {
    const r = await run(
      "javascript",
      `const fs = require("fs"); const cp = require("child_process");
console.log(JSON.stringify(process.env));
for (const p of ["/etc/shadow", "/root", "/proc/1/environ"]) {
  try { console.log(p, fs.readFileSync(p, "utf8").slice(0, 200)); } catch (e) { console.log(p, "unreadable", e.code); }
}
try { console.log(cp.execSync("cat /etc/shadow; id; env", { encoding: "utf8" })); } catch (e) { console.log("exec failed", String(e.stderr)); }
`,
    );
    assert.ok(!r.stdout.includes(CANARY), "parent environment leaked");
    assert.match(r.stdout, /\/etc\/shadow unreadable/);
    assert.ok(!/root:[^:]*:\d+:/.test(r.stdout));
  });

  it("cannot read host secrets via os.system or ctypes (python)", async () => {
    const r = await run(
      "python",
      `import os, ctypes
os.system("cat /etc/shadow /root/* 2>&1; env; id")
libc = ctypes.CDLL(None)
libc.system(b"cat /proc/1/environ; ls / 2>&1")
`,
    );
    assert.ok(!r.stdout.includes(CANARY));
    assert.ok(!/root:[^:]*:\d+:/.test(r.stdout));
    assert.ok(!r.stdout.includes("home"), `host root listing leaked: ${r.stdout}`);
  });

  it("cannot read host secrets (c++)", async () => {
    const r = await run(
      "cpp",
      `#include <cstdio>
#include <cstdlib>
int main(){ FILE* f = fopen("/etc/shadow","r"); std::puts(f ? "OPENED" : "denied");
  const char* s = std::getenv("DATASCALE_SECRET_CANARY"); std::puts(s ? s : "noenv");
  return std::system("cat /proc/1/environ /etc/shadow 2>/dev/null"); }`,
    );
    assert.match(r.stdout, /denied/);
    assert.match(r.stdout, /noenv/);
    assert.ok(!r.stdout.includes(CANARY));
  });
});

describe("submissions are isolated from each other", () => {
  it(`runs in ${MODE} mode`, () => {
    assert.equal(sandbox.mode, MODE);
  });

  it("two concurrent submissions cannot see each other's files, processes or IPC", async () => {
    const writer = sandbox.runSubmission({
      language: "python",
      code: `import os, time
for d in ["/tmp", "/dev/shm", "/work"]:
    open(os.path.join(d, "secret-of-a"), "w").write("a")
os.mkfifo("/tmp/fifo-of-a")
time.sleep(0.8)
print(sorted(os.listdir("/tmp")))
`,
      tests: [{ stdin: "" }],
      limits: SMALL,
    });
    await new Promise((r) => setTimeout(r, 300));
    const reader = await run(
      "python",
      `import os
print("files", [f for d in ["/tmp", "/dev/shm", "/work"] for f in os.listdir(d)])
print("procs", [open(f"/proc/{p}/cmdline", "rb").read() for p in os.listdir("/proc") if p.isdigit()])
print("caps", [l for l in open("/proc/self/status") if l.startswith("Cap")])
`,
    );
    const a = await writer;
    assert.match(a.tests[0]?.stdout ?? "", /secret-of-a/);
    assert.match(reader.stdout, /^files \[\]$/m, reader.stdout);
    assert.doesNotMatch(reader.stdout, /time\.sleep|secret/);
    assert.match(reader.stdout, /CapEff:\\t0000000000000000/, "no capabilities left");
  });
});

describe("writes stay inside the sandbox", () => {
  it("cannot write outside the work dir, nor escape through symlinks", async () => {
    const target = join(hostDir, "pwned");
    const r = await run(
      "python",
      `import os
for p in ["/usr/pwned", "/etc/pwned", "/pwned", "/dev/pwned", "/opt/pwned", "/proc/pwned", ${JSON.stringify(target)}, "/proc/1/root${target}", "/proc/self/cwd/../${target}"]:
    try:
        open(p, "w").write("x"); print("WROTE", p)
    except Exception as e: print("blocked", p, type(e).__name__)
os.symlink(${JSON.stringify(hostDir)}, "escape")
try:
    open("escape/pwned", "w").write("x"); print("WROTE via symlink")
except Exception as e: print("symlink blocked", type(e).__name__)
os.symlink("/etc/shadow", "s")
try: print(open("s").read())
except Exception as e: print("symlink read blocked", type(e).__name__)
open("ok.txt", "w").write("fine"); print("work ok")
`,
    );
    assert.equal(r.status, "ok", r.stderr);
    assert.ok(!existsSync(target), "a file appeared on the host");
    assert.ok(!existsSync("/usr/pwned") && !existsSync("/etc/pwned") && !existsSync("/pwned"));
    assert.doesNotMatch(r.stdout, /WROTE/, "only the capped work, tmp and shm dirs are writable");
    assert.match(r.stdout, /work ok/);
    assert.ok(!/root:[^:]*:\d+:/.test(r.stdout));
  });

  it("disk fill stops at the file-size and tmpfs caps, quickly", async () => {
    const r = await run(
      "python",
      `import os
n = 0
try:
    for i in range(100000):
        with open(f"f{i}", "wb") as f: f.write(b"x" * (512 << 10))
        n += 1
except OSError as e:
    print("stopped after", n, type(e).__name__)
`,
    );
    assert.equal(r.status, "ok", r.stderr);
    const n = Number(/stopped after (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(n < 64, `wrote ${n} × 512 KiB into a 16 MiB tmpfs`);
    endedWithin(r, 1500);
  });

  it("no unbounded tmpfs: the root, /dev and /dev/shm cannot absorb a disk fill", async () => {
    const r = await run(
      "python",
      `import os
for d in ["/", "/dev", "/dev/shm", "/tmp"]:
    n = 0
    try:
        for i in range(1000):
            with open(os.path.join(d, f"fill{i}"), "wb") as f: f.write(b"x" * (1 << 20))
            n += 1
    except OSError as e: pass
    print(d, n)
`,
    );
    const counts = Object.fromEntries(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .map(([d, n]) => [d, Number(n)]),
    );
    assert.deepEqual([counts["/"], counts["/dev"]], [0, 0], r.stdout);
    assert.ok((counts["/dev/shm"] ?? 99) <= 16 && (counts["/tmp"] ?? 99) <= 16, r.stdout);
  });

  it("one huge file is cut at the file-size limit (output_limit)", async () => {
    const r = await run("python", `f = open("big", "wb")\nwhile True: f.write(b"x" * 65536)\n`);
    assert.equal(r.status, "output_limit");
    endedWithin(r, 1500);
  });
});

describe("network is absent", () => {
  for (const [language, code] of [
    [
      "python",
      `import socket
for host, p in [("127.0.0.1", PORT), ("1.1.1.1", 80), ("8.8.8.8", 53)]:
    try:
        socket.create_connection((host, p), timeout=0.5); print("CONNECTED", host)
    except OSError as e: print("blocked", host, type(e).__name__)
try: print("DNS", socket.getaddrinfo("example.com", 80))
except OSError as e: print("dns blocked", type(e).__name__)
`,
    ],
    [
      "javascript",
      `const net = require("net"); const dns = require("dns");
let pending = 3;
for (const [h, p] of [["127.0.0.1", PORT], ["1.1.1.1", 80]]) {
  const s = net.connect(p, h, () => console.log("CONNECTED", h));
  s.on("error", (e) => { console.log("blocked", h, e.code); });
  s.setTimeout(500, () => { console.log("blocked", h, "timeout"); s.destroy(); });
}
dns.lookup("example.com", (e, a) => console.log(e ? "dns blocked " + e.code : "DNS " + a));
`,
    ],
    [
      "cpp",
      `#include <arpa/inet.h>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>
int main(){ const char* hosts[] = {"127.0.0.1", "1.1.1.1"}; int ports[] = {PORT, 80};
  for (int i = 0; i < 2; i++) { int s = socket(AF_INET, SOCK_STREAM, 0); sockaddr_in a{}; a.sin_family = AF_INET;
    a.sin_port = htons(ports[i]); inet_pton(AF_INET, hosts[i], &a.sin_addr);
    if (connect(s, (sockaddr*)&a, sizeof a) == 0) std::printf("CONNECTED %s\\n", hosts[i]); else std::printf("blocked %s\\n", hosts[i]);
    close(s); } }`,
    ],
  ] as const) {
    it(`no loopback, DNS or public IP (${language})`, async () => {
      const r = await run(language, code.replaceAll("PORT", String(trap.port)));
      assert.doesNotMatch(r.stdout, /CONNECTED|DNS /, r.stdout);
      assert.match(r.stdout, /blocked 127\.0\.0\.1/);
      endedWithin(r, 1500);
    });
  }
});

describe("resource bombs end within their limits", () => {
  it("fork bomb (python) is contained; the service keeps working", async () => {
    const r = await run("python", `import os\nwhile True:\n    try: os.fork()\n    except OSError: pass\n`);
    assert.ok(["time_limit", "runtime_error"].includes(r.status), r.status);
    endedWithin(r, 1500);
    const ok = await run("python", `print("alive")`);
    assert.equal(ok.stdout, "alive\n");
  });

  it("no nested user namespaces (which would regain capabilities and escape RLIMIT_NPROC)", async () => {
    const r = await run(
      "python",
      `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print("unshare", libc.unshare(0x10000000), ctypes.get_errno())
print("unshare-cmd", os.system("unshare -Ur true 2>/dev/null"))
`,
    );
    assert.match(r.stdout, /^unshare -1 \d+$/m, r.stdout);
    assert.doesNotMatch(r.stdout, /unshare-cmd 0$/m);
  });

  it("fork bomb (c++) is contained", async () => {
    const r = await run("cpp", `#include <unistd.h>\nint main(){ for(;;) fork(); }`);
    assert.ok(["time_limit", "runtime_error"].includes(r.status), r.status);
    // 32 processes spinning in fork() slow the harness's own wakeups: with the other suites'
    // bombs in parallel at load ~20, this ended 2.0–2.5 s after its start, on main as here
    // (2026-12-03). An uncontained bomb would run to the submission's deadline (~13 s).
    endedWithin(r, 1500, 1500);
  });

  it("fork bomb (javascript, child_process) is contained", async () => {
    const r = await run(
      "javascript",
      `const cp = require("child_process"); for (let i = 0; i < 200; i++) { try { cp.spawn("/bin/sh", ["-c", "sleep 100"]); } catch (e) {} }
setTimeout(() => {}, 100000);`,
    );
    assert.ok(["time_limit", "runtime_error"].includes(r.status), r.status);
    endedWithin(r, 1500);
  });

  it("thread storm hits the process limit", async () => {
    const r = await run(
      "python",
      `import threading, time
n = 0
try:
    for i in range(10000):
        threading.Thread(target=time.sleep, args=(5,), daemon=True).start(); n += 1
except RuntimeError as e: print("stopped at", n, flush=True)
import os; os._exit(0)
`,
    );
    const n = Number(/stopped at (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(
      n < 64,
      `started ${n} threads with a limit of 32 processes (${r.status} ${r.stderr.slice(0, 200)})`,
    );
    endedWithin(r, 1500);
  });

  for (const [language, code] of [
    ["python", `a = []\nwhile True: a.append(bytearray(16 << 20))\n`],
    ["javascript", `const a = []; for (;;) a.push(new Array(1 << 20).fill(1.5));`],
    [
      "cpp",
      `#include <vector>\n#include <cstring>\nint main(){ std::vector<char*> v; for(;;){ char* p = new char[16<<20]; std::memset(p, 1, 16<<20); v.push_back(p);} }`,
    ],
  ] as const) {
    it(`memory bomb is a memory_limit (${language})`, async () => {
      // SMALL's 1.5 s wall backstop is for sleepers; on a loaded machine V8 can take longer
      // than that to fill its heap, which is no time limit of the program's making.
      const r = await run(language, code, { timeMs: 5000, wallMs: 10_000 });
      assert.equal(r.status, "memory_limit", `${r.status}: ${r.stderr.slice(0, 300)}`);
      assert.ok(r.memoryKb < (256 + 64) * 1024 || language === "javascript", `peak ${r.memoryKb} KiB`);
    });
  }

  it("thousands of open files stop at the descriptor limit", async () => {
    const r = await run(
      "python",
      `fs = []
try:
    for i in range(5000): fs.append(open("/dev/null"))
except OSError as e: print("opened", len(fs), type(e).__name__)
`,
    );
    const n = Number(/opened (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(n > 0 && n < 128, `opened ${n}`);
  });

  for (const [language, code] of [
    ["python", `import sys\nwhile True: sys.stdout.write("x" * 65536)\n`],
    ["javascript", `const s = "x".repeat(65536); for (;;) process.stdout.write(s);`],
    [
      "cpp",
      `#include <cstdio>\nint main(){ static char b[65536]; for(auto& c: b) c='x'; for(;;) fwrite(b,1,sizeof b,stdout); }`,
    ],
  ] as const) {
    it(`1 GB of output is cut at the cap (${language})`, async () => {
      const r = await run(language, code);
      assert.equal(r.status, "output_limit", `${r.status} ${r.stderr.slice(0, 200)}`);
      assert.ok(r.stdout.length <= 1 << 20);
      endedWithin(r, 1500);
    });
  }

  it("an infinite loop is a time_limit (python, c++)", async () => {
    for (const [language, code] of [
      ["python", "while True: pass"],
      ["cpp", "int main(){ volatile long x = 0; for(;;) x++; }"],
    ] as const) {
      const r = await run(language, code, { timeMs: 500, wallMs: 5000 });
      assert.equal(r.status, "time_limit");
      assert.ok(
        r.cpuMs >= 500 && r.cpuMs < 800,
        `cpu ${r.cpuMs} ms: the CPU limit, not the wall backstop, ended it`,
      );
      assert.ok(r.wallMs < 5000);
    }
  });

  it("a compile-time bomb is stopped (c++ #include of /dev/zero)", async () => {
    const r = await sandbox.runSubmission({
      language: "cpp",
      code: `#include "/dev/zero"\nint main(){}`,
      tests: [{ stdin: "" }],
      compileLimits: { timeMs: 2000, memoryMb: 512 },
    });
    assert.ok(r.compile !== undefined && r.compile.status !== "ok", "compile must fail");
    assert.ok(r.compile.wallMs < 2600, `compile ran ${r.compile.wallMs} ms`);
    assert.equal(r.tests.length, 0);
  });
});

describe("nothing outlives a run and the host survives", () => {
  it("killing the parent, init and every process leaves the host alive", async () => {
    const r = await run(
      "python",
      `import os, signal
for pid in [os.getppid(), 1, ${process.pid}, -1]:
    try: os.kill(pid, signal.SIGKILL); print("sent", pid)
    except OSError as e: print("refused", pid, type(e).__name__)
`,
    );
    assert.ok(["ok", "runtime_error"].includes(r.status), r.status);
    assert.equal(process.kill(process.pid, 0), true, "the host process is alive");
    const ok = await run("python", `print("alive")`);
    assert.equal(ok.stdout, "alive\n");
  });

  it("daemons (double fork + setsid) die with the run and never reach the next test", async () => {
    const marker = String(900000 + (process.pid % 90000));
    const r = await sandbox.runSubmission({
      language: "python",
      code: `import os, sys, time
if sys.stdin.read().strip() == "first":
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sh", ["sh", "-c", "while true; do date >> /tmp/daemon.log; sleep 0.01; done; sleep ${marker}"])
        os._exit(0)
    time.sleep(0.1)
    print("daemon log exists", os.path.exists("/tmp/daemon.log"))
else:
    time.sleep(0.1)
    print("leftover", os.path.exists("/tmp/daemon.log"))
`,
      tests: [{ stdin: "first" }, { stdin: "second" }],
      limits: SMALL,
    });
    assert.equal(r.tests[0]?.stdout, "daemon log exists True\n");
    assert.equal(r.tests[1]?.stdout, "leftover False\n", "a daemon or its files survived into the next test");
    assert.deepEqual(hostProcessesMatching(`sleep ${marker}`), []);
    assert.deepEqual(hostProcessesMatching("date >> /tmp/daemon.log"), []);
  });
});

// Go, Java, Rust, bash, perl and TypeScript: the same guarantees (own sandbox, same mode).
await import("./security-languages.ts");
