// Turns (solution, tests, style) into ONE program plus one stdin per test, so all tests of
// a submission run in one sandbox. Function-call and assertion programs print a marker
// holding a per-submission random nonce before their result, so text the solution itself
// prints cannot pass for a result. While a call or a test runs, the solution's prints go to
// /dev/null (Python, JavaScript), as HumanEval's harness swallows them: stdout is not what
// these tests judge, so a chatty correct solution never meets the output cap.
import { randomBytes } from "node:crypto";

export type Style = "stdio" | "call" | "assert";

export interface DriverTest {
  input?: string | undefined;
  args?: unknown[] | undefined;
  code?: string | undefined;
}

export interface Driven {
  code: string;
  stdins: string[];
  marker: string;
}

export type DriverResult = { ok: true; driven: Driven } | { ok: false; reason: string };

const ENTRY = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)?$/;

function pythonCall(code: string, entry: string, marker: string): string {
  return `${code}

def __datascale_call():
    import json as _j, sys as _s
    _args = _j.loads(_s.stdin.read())
    _g = globals()
    _name = ${JSON.stringify(entry)}
    if "." in _name:
        _cls, _meth = _name.split(".", 1)
        _f = getattr(_g[_cls](), _meth)
    elif _name in _g and callable(_g[_name]):
        _f = _g[_name]
    elif "Solution" in _g:
        _f = getattr(_g["Solution"](), _name)
    else:
        raise NameError("entry point " + _name + " is not defined")
    _real = _s.stdout
    _s.stdout = open(__import__("os").devnull, "w")
    try:
        _r = _f(*_args)
    finally:
        _s.stdout = _real
    _out = _j.dumps(_r, default=lambda o: sorted(o) if isinstance(o, (set, frozenset)) else str(o))
    _s.stdout.write("\\n" + ${JSON.stringify(marker)} + _out + "\\n")

__datascale_call()
`;
}

function pythonAssert(code: string, tests: string[], entry: string | undefined, marker: string): string {
  const check =
    entry === undefined ? "" : `\nif "check" in globals() and callable(globals()["check"]): check(${entry})`;
  return `${code}

__datascale_tests = ${JSON.stringify(tests)}
__datascale_real = __import__("sys").stdout
__import__("sys").stdout = open(__import__("os").devnull, "w")
exec(__datascale_tests[int(__import__("sys").stdin.read())], globals())${check}
__import__("sys").stdout = __datascale_real
print(${JSON.stringify(marker)} + "PASS")
`;
}

function jsCall(code: string, entry: string, marker: string): string {
  const [a, b] = entry.split(".");
  const target =
    b === undefined
      ? `(typeof ${a} === "function" ? ${a} : (typeof Solution === "function" ? (() => { const s = new Solution(); return s.${a}.bind(s); })() : undefined))`
      : `(() => { const s = new ${a}(); return s.${b}.bind(s); })()`;
  return `${code}
;(() => {
  const __args = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const __f = ${target};
  if (typeof __f !== "function") throw new Error("entry point ${entry} is not defined");
  const __write = process.stdout.write.bind(process.stdout);
  process.stdout.write = () => true;
  let __r;
  try {
    __r = __f(...__args);
  } finally {
    process.stdout.write = __write;
  }
  __write("\\n" + ${JSON.stringify(marker)} + JSON.stringify(__r === undefined ? null : __r) + "\\n");
})();
`;
}

function jsAssert(code: string, tests: string[], marker: string): string {
  return `${code}
;{
  const assert = require("assert");
  const __tests = ${JSON.stringify(tests)};
  const __write = process.stdout.write.bind(process.stdout);
  process.stdout.write = () => true;
  eval(__tests[Number(require("fs").readFileSync(0, "utf8"))]);
  process.stdout.write = __write;
  console.log(${JSON.stringify(marker)} + "PASS");
}
`;
}

function cppAssert(code: string, tests: string[], marker: string): string {
  const cases = tests.map((t, i) => `    case ${i}: { ${t}\n    } break;`).join("\n");
  return `#include <cassert>
#include <iostream>
${code}

int main() {
  int __datascale_i = -1;
  std::cin >> __datascale_i;
  switch (__datascale_i) {
${cases}
    default: return 3;
  }
  std::cout << ${JSON.stringify(marker)} << "PASS" << std::endl;
  return 0;
}
`;
}

/**
 * A JavaScript driver for a TypeScript solution: the same program (TypeScript is a superset),
 * but built-ins come from process.getBuiltinModule, since a solution with `import` makes the
 * file an ES module, where `require` does not exist.
 */
function forTypeScript(js: string): string {
  return js
    .replaceAll('require("fs")', 'process.getBuiltinModule("fs")')
    .replaceAll('require("assert")', 'process.getBuiltinModule("assert")');
}

export function buildProgram(
  language: string,
  style: Style,
  solution: string,
  tests: readonly DriverTest[],
  entry: string | undefined,
): DriverResult {
  const marker = `@@datascale-${randomBytes(12).toString("hex")}@@`;
  if (style === "stdio") {
    return { ok: true, driven: { code: solution, stdins: tests.map((t) => t.input ?? ""), marker } };
  }
  if (style === "call") {
    if (entry === undefined || !ENTRY.test(entry)) {
      return {
        ok: false,
        reason: "function-call tests need reference.entry naming a function (or Class.method)",
      };
    }
    const stdins = tests.map((t) => JSON.stringify(t.args ?? []));
    if (language === "python")
      return { ok: true, driven: { code: pythonCall(solution, entry, marker), stdins, marker } };
    if (language === "javascript")
      return { ok: true, driven: { code: jsCall(solution, entry, marker), stdins, marker } };
    if (language === "typescript")
      return { ok: true, driven: { code: forTypeScript(jsCall(solution, entry, marker)), stdins, marker } };
    return {
      ok: false,
      reason: `function-call tests are not supported for ${language}; use stdio or assert tests`,
    };
  }
  const codes = tests.map((t) => t.code ?? "");
  const stdins = tests.map((_, i) => String(i));
  if (entry !== undefined && !ENTRY.test(entry))
    return { ok: false, reason: `reference.entry '${entry}' is not a name` };
  if (language === "python")
    return { ok: true, driven: { code: pythonAssert(solution, codes, entry, marker), stdins, marker } };
  if (language === "javascript")
    return { ok: true, driven: { code: jsAssert(solution, codes, marker), stdins, marker } };
  if (language === "typescript")
    return { ok: true, driven: { code: forTypeScript(jsAssert(solution, codes, marker)), stdins, marker } };
  if (language === "cpp")
    return { ok: true, driven: { code: cppAssert(solution, codes, marker), stdins, marker } };
  return { ok: false, reason: `assertion tests are not supported for ${language}` };
}

/** The JSON after the last marker in `stdout`, or undefined if absent or not JSON. */
export function readCallResult(stdout: string, marker: string): { value: unknown } | undefined {
  const at = stdout.lastIndexOf(marker);
  if (at < 0) return undefined;
  const rest = stdout.slice(at + marker.length).split("\n")[0] ?? "";
  try {
    return { value: JSON.parse(rest) };
  } catch {
    return undefined;
  }
}

export function assertPassed(stdout: string, marker: string): boolean {
  return stdout.includes(`${marker}PASS`);
}
