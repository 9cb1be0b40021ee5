"""verl custom reward function that forwards to a DataScale reward server.

Standard library only. Point verl at it:

    reward.custom_reward_function.path=/path/to/datascale_reward.py
    reward.custom_reward_function.name=compute_score
    reward.reward_manager.name=rate_limited   # optional: backpressure and timeouts

(legacy verl <= 0.7.0: custom_reward_function.path=... custom_reward_function.name=compute_score)

Environment:
    DATASCALE_REWARD_URL   server base URL (default http://127.0.0.1:8000)
    DATASCALE_TIMEOUT_S    per-request timeout in seconds (default 120)
    DATASCALE_RETRIES      retries on 429/503/connection errors (default 5)

What is sent: one Rollout per call to POST /v1/rewards. The domain and reference come from
`extra_info` as written by `datascale export verl` (extra_info.domain, extra_info.reference);
otherwise the domain is `data_source` and the reference is `{"answer": ground_truth}` (or the
code tests, when ground_truth holds {"inputs", "outputs"}).

What comes back: a dict with the same keys for every sample (verl indexes every sample by
sample 0's keys): score, acc (1.0 when the verdict is correct), invalid (1.0 when the
response had no checkable answer). An infrastructure failure (verdict "error", or the server
unreachable after retries) raises instead of returning 0, so it cannot poison training.
"""

import asyncio
import itertools
import json
import os
import time
import urllib.error
import urllib.request

_ids = itertools.count()


def _base_url():
    return os.environ.get("DATASCALE_REWARD_URL", "http://127.0.0.1:8000").rstrip("/")


def _reference(ground_truth):
    if isinstance(ground_truth, str):
        try:
            parsed = json.loads(ground_truth)
        except ValueError:
            return {"answer": ground_truth}
        ground_truth = parsed
    if isinstance(ground_truth, dict) and "inputs" in ground_truth and "outputs" in ground_truth:
        tests = [{"input": i, "output": o} for i, o in zip(ground_truth["inputs"], ground_truth["outputs"])]
        ref = {"tests": tests}
        if ground_truth.get("fn_name"):
            ref["entry"] = ground_truth["fn_name"]
        return ref
    if isinstance(ground_truth, dict):
        return ground_truth
    return {"answer": ground_truth if isinstance(ground_truth, (int, float)) else str(ground_truth)}


def build_rollout(data_source, solution_str, ground_truth, extra_info=None):
    extra = extra_info if isinstance(extra_info, dict) else {}
    rollout = {
        "id": extra.get("id", "verl-%d-%d" % (os.getpid(), next(_ids))),
        "domain": extra.get("domain") or data_source,
        "reference": extra.get("reference") or _reference(ground_truth),
        "response": solution_str,
        "data_source": data_source,
    }
    if isinstance(extra.get("question"), str):
        rollout["prompt"] = extra["question"]
    return rollout


def _post(rollout):
    body = json.dumps({"rollouts": [rollout]}).encode("utf-8")
    timeout = float(os.environ.get("DATASCALE_TIMEOUT_S", "120"))
    retries = int(os.environ.get("DATASCALE_RETRIES", "5"))
    delay = 0.5
    last = None
    for attempt in range(retries + 1):
        req = urllib.request.Request(
            _base_url() + "/v1/rewards", data=body, headers={"content-type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read().decode("utf-8"))["rewards"][0]
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            if e.code not in (429, 503):
                raise RuntimeError("DataScale reward server: HTTP %d: %s" % (e.code, detail)) from None
            last = "HTTP %d: %s" % (e.code, detail)
            wait = float(e.headers.get("retry-after") or delay)
        except (urllib.error.URLError, OSError) as e:
            last = str(e)
            wait = delay
        if attempt < retries:
            time.sleep(wait)
            delay = min(delay * 2, 8.0)
    raise RuntimeError("DataScale reward server unreachable after %d tries: %s" % (retries + 1, last))


def to_result(reward):
    if reward["verdict"] == "error":
        err = reward.get("error") or {}
        raise RuntimeError("DataScale reward error (%s): %s" % (err.get("code"), err.get("message")))
    return {
        "score": float(reward["score"]),
        "acc": 1.0 if reward["verdict"] == "correct" else 0.0,
        "invalid": 1.0 if reward["verdict"] == "invalid" else 0.0,
    }


async def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    rollout = build_rollout(data_source, solution_str, ground_truth, extra_info)
    reward = await asyncio.get_running_loop().run_in_executor(None, _post, rollout)
    return to_result(reward)
