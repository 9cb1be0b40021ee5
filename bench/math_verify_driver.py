"""Runs HuggingFace Math-Verify on the labelled math cases, for bench/math.bench.ts.

Reads JSON lines {"gold": ..., "response": ...} on stdin and prints one JSON object with
each verdict and the per-case latency. Math-Verify is imported from a copy outside the
project, given by MATH_VERIFY_PATH (default /work/ext/math-verify) with the layout
<path>/src/math_verify and <path>/latex2sympy2_extended/src/latex2sympy2_extended.
When it cannot be imported the driver prints {"skipped": "<reason>"} and exits 0.
"""

import json
import os
import sys
import time


def main() -> None:
    root = os.environ.get("MATH_VERIFY_PATH", "/work/ext/math-verify")
    for sub in ("src", os.path.join("latex2sympy2_extended", "src")):
        path = os.path.join(root, sub)
        if os.path.isdir(path):
            sys.path.insert(0, path)
    try:
        from math_verify import parse, verify  # noqa: PLC0415
    except Exception as e:  # noqa: BLE001 - any import failure means "not available"
        print(json.dumps({"skipped": f"cannot import math_verify from {root}: {type(e).__name__}: {e}"}))
        return
    cases = [json.loads(line) for line in sys.stdin if line.strip()]
    # Warm-up: first calls compile regexes and import SymPy submodules.
    verify(parse("$1$"), parse("\\boxed{1}"))
    results = []
    latencies = []
    start = time.perf_counter()
    for c in cases:
        t = time.perf_counter()
        try:
            # As the README recommends: the gold wrapped in $...$, the response as is.
            ok = bool(verify(parse(f"${c['gold']}$"), parse(c["response"])))
        except Exception:  # noqa: BLE001 - an exception counts as "not correct"
            ok = False
        latencies.append((time.perf_counter() - t) * 1000)
        results.append(ok)
    total = time.perf_counter() - start
    print(json.dumps({"results": results, "latencies_ms": latencies, "seconds": total}))


if __name__ == "__main__":
    main()
