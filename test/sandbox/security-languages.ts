// Part of security.test.ts (imported at its end, so it runs in zygote and, through
// security-fresh.test.ts, in fresh mode, and never beside itself): the hostile programs
// again, in the languages added after Python/JavaScript/C++ (Go, Java,
// Rust, TypeScript, bash, perl): one "multitool" program per compiled language, compiled
// once, whose stdin picks the attack, so each attack is a test of the same submission and
// the compile is not repeated. Each asserts a guarantee observable on the host. The runs use
// the run's small limits; only the compile gets the compiler's larger budget.
// Each compiled-language test takes 3-8 s (one compile, then seven runs with limits of
// 1-5 s, most of them ended by a limit): that is the cost of running every attack for real.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { probeIsolation } from "../../src/sandbox/isolation.ts";
import { Sandbox } from "../../src/sandbox/sandbox.ts";
import type { ExecResult, Limits } from "../../src/sandbox/types.ts";
import { hostProcessesMatching, type LoopbackTrap, loopbackTrap, SMALL } from "./helpers.ts";

const report = probeIsolation();
const skip = report.bwrap.works ? false : `bubblewrap unusable here: ${report.bwrap.error}`;
// The same canary security.test.ts plants in this process's environment.
const CANARY = process.env.DATASCALE_SECRET_CANARY ?? `datascale-canary-${process.pid}`;
process.env.DATASCALE_SECRET_CANARY = CANARY;
// A marker only our fork bombs put on a command line (sleep's argument), to find leftovers.
const MARKER = `9.${process.pid}${Date.now() % 100000}`;

let sandbox: Sandbox;
let trap: LoopbackTrap;

// One describe around everything, so this sandbox is closed (and the loopback server checked)
// before security.test.ts's own after hook looks for leftover sandbox processes.
describe("languages beyond Python, JavaScript and C++", { skip }, () => {
  before(async () => {
    if (skip) return;
    const mode = process.env.DATASCALE_TEST_SANDBOX_MODE === "fresh" ? "fresh" : "zygote";
    sandbox = new Sandbox({ concurrency: 2, warm: 1, tmpfsBytes: 16 << 20, mode });
    trap = await loopbackTrap();
  });
  after(async () => {
    if (skip) return;
    await sandbox.close();
    await trap.close();
    assert.equal(trap.connections, 0, "no sandboxed program reached the host's loopback server");
  });

  const ATTACKS = ["secrets", "net", "fork", "mem", "out", "spin", "disk"] as const;
  type Attack = (typeof ATTACKS)[number];

  const GO = `package main
import ("bufio"; "fmt"; "net"; "os"; "os/exec"; "strings"; "time")
func main() {
  line, _ := bufio.NewReader(os.Stdin).ReadString('\\n')
  f := strings.Fields(line)
  switch f[0] {
  case "secrets":
    _, err := os.ReadFile("/etc/shadow"); fmt.Println("shadow readable:", err == nil)
    _, err = os.ReadDir("/root"); fmt.Println("root readable:", err == nil)
    fmt.Println("canary:", os.Getenv("DATASCALE_SECRET_CANARY"))
  case "net":
    c, err := net.DialTimeout("tcp", "127.0.0.1:"+f[1], 500*time.Millisecond)
    if err == nil { c.Close(); fmt.Println("CONNECTED") } else { fmt.Println("blocked") }
  case "fork":
    n := 0
    for i := 0; i < 100000; i++ { if exec.Command("/bin/sleep", f[1]).Start() != nil { break }; n++ }
    fmt.Println("started", n)
  case "mem":
    var keep [][]byte
    for i := 0; i < 64; i++ { b := make([]byte, 64<<20); for j := range b { b[j] = 1 }; keep = append(keep, b) }
    fmt.Println(len(keep))
  case "out":
    for { fmt.Println("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") }
  case "spin":
    for { }
  case "disk":
    w, _ := os.Create("big"); b := make([]byte, 1<<20); n := 0
    for { if _, err := w.Write(b); err != nil { break }; n++ }
    fmt.Println("wrote MB", n)
  }
}`;

  const JAVA = `import java.io.*; import java.net.*; import java.nio.file.*; import java.util.*;
public class Main { public static void main(String[] a) throws Exception {
  String[] f = new BufferedReader(new InputStreamReader(System.in)).readLine().trim().split(" ");
  switch (f[0]) {
    case "secrets":
      try { Files.readAllBytes(Paths.get("/etc/shadow")); System.out.println("shadow readable: true"); } catch (Exception e) { System.out.println("shadow readable: false"); }
      System.out.println("root readable: " + (new File("/root").list() != null));
      System.out.println("canary: " + System.getenv("DATASCALE_SECRET_CANARY")); break;
    case "net":
      try (Socket s = new Socket()) { s.connect(new InetSocketAddress("127.0.0.1", Integer.parseInt(f[1])), 500); System.out.println("CONNECTED"); } catch (IOException e) { System.out.println("blocked"); } break;
    case "fork": { int n = 0; try { for (int i = 0; i < 100000; i++) { new ProcessBuilder("/bin/sleep", f[1]).start(); n++; } } catch (Throwable e) { } System.out.println("started " + n); break; }
    case "mem": { List<long[]> keep = new ArrayList<>(); while (true) { long[] b = new long[8 << 20]; Arrays.fill(b, 1); keep.add(b); } }
    case "out": while (true) System.out.println("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    case "spin": while (true) { }
    case "disk": { int n = 0; try (FileOutputStream w = new FileOutputStream("big")) { byte[] b = new byte[1 << 20]; while (true) { w.write(b); n++; } } catch (IOException e) { } System.out.println("wrote MB " + n); break; }
  }
} }`;

  const RUST = `use std::io::{Read, Write};
fn main() {
  let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap();
  let f: Vec<&str> = s.split_whitespace().collect();
  match f[0] {
    "secrets" => {
      println!("shadow readable: {}", std::fs::read("/etc/shadow").is_ok());
      println!("root readable: {}", std::fs::read_dir("/root").is_ok());
      println!("canary: {}", std::env::var("DATASCALE_SECRET_CANARY").unwrap_or_default());
    }
    "net" => {
      let a: std::net::SocketAddr = format!("127.0.0.1:{}", f[1]).parse().unwrap();
      match std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_millis(500)) { Ok(_) => println!("CONNECTED"), Err(_) => println!("blocked") }
    }
    "fork" => { let mut n = 0; for _ in 0..100000 { if std::process::Command::new("/bin/sleep").arg(f[1]).spawn().is_err() { break; } n += 1; } println!("started {}", n); }
    "mem" => { let mut keep: Vec<Vec<u8>> = Vec::new(); loop { keep.push(vec![1u8; 64 << 20]); } }
    "out" => { let mut o = std::io::stdout(); loop { if writeln!(o, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").is_err() { std::process::exit(1); } } }
    "spin" => { let mut x: u64 = 0; loop { x = x.wrapping_add(1); if x == 0 { println!("{}", x); } } }
    "disk" => { let mut w = std::fs::File::create("big").unwrap(); let b = vec![0u8; 1 << 20]; let mut n = 0; while w.write_all(&b).is_ok() { n += 1; } println!("wrote MB {}", n); }
    _ => {}
  }
}`;

  const MULTITOOLS: Record<string, { code: string; limits: Partial<Limits> }> = {
    // Go's garbage collector runs on threads of its own, and their CPU time counts: filling
    // 256 MB took more than SMALL's CPU budget once on a 2-core CI run (time_limit, not
    // memory_limit). The same room as the JVM's.
    go: { code: GO, limits: { timeMs: 3000, wallMs: 5000 } },
    // The JVM starts in ~0.3 s of CPU; give its runs room so a loaded machine does not flake.
    java: { code: JAVA, limits: { timeMs: 3000, wallMs: 5000 } },
    rust: { code: RUST, limits: {} },
  };

  function stdinFor(attack: Attack): string {
    if (attack === "net") return `net ${trap.port}\n`;
    if (attack === "fork") return `fork ${MARKER}\n`;
    return `${attack}\n`;
  }

  function checkAttack(attack: Attack, r: ExecResult, limits: Limits): void {
    const within = (limits.wallMs ?? 2 * limits.timeMs) + 1500;
    assert.ok(r.wallMs <= within, `${attack}: ran ${r.wallMs} ms (limit ${within})`);
    switch (attack) {
      case "secrets":
        assert.equal(r.status, "ok", r.stderr);
        assert.match(r.stdout, /shadow readable: false/);
        assert.match(r.stdout, /root readable: false/);
        assert.ok(!r.stdout.includes(CANARY), "the host's environment does not leak in");
        break;
      case "net":
        assert.match(r.stdout, /blocked/);
        assert.doesNotMatch(r.stdout, /CONNECTED/);
        break;
      case "fork": {
        const started = Number(/started (\d+)/.exec(r.stdout)?.[1] ?? "0");
        assert.ok(started < (limits.processes ?? 64), `started ${started} processes`);
        break;
      }
      case "mem":
        assert.equal(r.status, "memory_limit", `${r.status}: ${r.stderr.slice(0, 300)}`);
        assert.ok(r.memoryKb <= ((limits.memoryMb ?? 256) + 1100) * 1024, `peak ${r.memoryKb} KiB`);
        break;
      case "out":
        assert.equal(r.status, "output_limit", r.status);
        assert.ok(r.stdout.length <= (limits.stdoutBytes ?? 1 << 20));
        break;
      case "spin":
        assert.equal(r.status, "time_limit", r.status);
        break;
      case "disk": {
        const mb = Number(/wrote MB (\d+)/.exec(r.stdout)?.[1] ?? "0");
        assert.ok(mb <= 16, `wrote ${mb} MB (file cap 1 MB, tmpfs 16 MB)`);
        break;
      }
    }
  }

  describe("compiled languages: one hostile program per language, every attack", { skip }, () => {
    for (const [language, tool] of Object.entries(MULTITOOLS)) {
      it(`${language}: secrets, network, fork bomb, memory bomb, output flood, infinite loop, disk fill`, async () => {
        const limits = { ...SMALL, ...tool.limits } as Limits;
        const results: ExecResult[] = [];
        const r = await sandbox.runSubmission(
          {
            language,
            code: tool.code,
            tests: ATTACKS.map((a) => ({ stdin: stdinFor(a) })),
            limits,
            compileLimits: { timeMs: 30_000, memoryMb: 1024 },
          },
          { onTest: (_i, res) => void results.push(res) },
        );
        assert.equal(r.compile?.status, "ok", r.compile?.stderr);
        assert.equal(r.tests.length, ATTACKS.length);
        for (const [i, attack] of ATTACKS.entries()) checkAttack(attack, r.tests[i] as ExecResult, limits);
        assert.deepEqual(hostProcessesMatching(MARKER), [], "no fork-bomb child outlives its run");
        const alive = await sandbox.runSubmission({
          language: "bash",
          code: "echo alive",
          tests: [{ stdin: "" }],
        });
        assert.equal(alive.tests[0]?.stdout, "alive\n");
      });
    }
  });

  async function one(language: string, code: string, limits: Partial<Limits> = {}): Promise<ExecResult> {
    const r = await sandbox.runSubmission({
      language,
      code,
      tests: [{ stdin: "" }],
      limits: { ...SMALL, ...limits },
    });
    const t = r.tests[0];
    assert.ok(t, "a result");
    return t;
  }

  describe("scripts: bash, perl, TypeScript", { skip }, () => {
    it("bash: fork bomb contained, /dev/tcp blocked, symlink escape sees only the sandbox, env clean", async () => {
      const bomb = await one("bash", ":(){ :|:& };:\nsleep 2", { timeMs: 1000, wallMs: 1500 });
      assert.notEqual(bomb.status, "ok");
      assert.ok(bomb.wallMs <= 3000, `${bomb.wallMs} ms`);
      const net = await one(
        "bash",
        `(exec 3<>/dev/tcp/127.0.0.1/${trap.port}) 2>/dev/null && echo CONNECTED || echo blocked`,
      );
      assert.match(net.stdout, /blocked/);
      const esc = await one(
        "bash",
        'ln -s / escape; ls escape/root 2>&1 | head -1; cat escape/etc/shadow 2>&1 | head -1; echo "canary=$DATASCALE_SECRET_CANARY"',
      );
      assert.doesNotMatch(esc.stdout, /root:|\$/);
      assert.match(esc.stdout, /No such file/);
      assert.ok(!esc.stdout.includes(CANARY));
      const flood = await one("bash", "yes xxxxxxxxxxxxxxxx");
      assert.equal(flood.status, "output_limit");
    });

    it("perl: fork bomb contained, secrets absent", async () => {
      const bomb = await one("perl", "1 while fork() >= 0 || 1;");
      assert.notEqual(bomb.status, "ok");
      assert.ok(bomb.wallMs <= 3000, `${bomb.wallMs} ms`);
      const sec = await one(
        "perl",
        'print open(my $f, "<", "/etc/shadow") ? "READ\\n" : "no\\n"; print "c=$ENV{DATASCALE_SECRET_CANARY}\\n";',
      );
      assert.equal(sec.stdout, "no\nc=\n");
    });

    it("TypeScript: memory bomb is memory_limit, loop is time_limit, secrets absent", async () => {
      // Room on the clock so a loaded machine cannot turn the heap cap into a time limit.
      const mem = await one(
        "typescript",
        "const keep: number[][] = [];\nwhile (true) keep.push(new Array(1 << 20).fill(1));",
        { memoryMb: 128, timeMs: 5000, wallMs: 8000 },
      );
      assert.equal(mem.status, "memory_limit", mem.stderr.slice(0, 300));
      const spin = await one("typescript", "let x: number = 0;\nwhile (true) x++;");
      assert.equal(spin.status, "time_limit");
      const sec = await one(
        "typescript",
        'import { existsSync } from "node:fs";\nconsole.log(existsSync("/etc/shadow"), process.env.DATASCALE_SECRET_CANARY ?? "none");',
      );
      assert.equal(sec.stdout, "false none\n");
    });
  });
});
