"""Drives the datascale_rewards adapters the way each engine calls them, against real servers.

Run by test/integrations/python-package.test.ts with the package importable (installed with
pip into a temporary target, or from the source tree) and
    DATASCALE_REWARD_URL   the servers, comma-separated
Prints one JSON object of results on stdout.
"""

import asyncio
import concurrent.futures
import functools
import json
import os
import sys
import threading
import time


def trl_calls(out):
    from datascale_rewards.trl import make_async_reward_func, make_reward_func

    # As GRPOTrainer._calculate_rewards calls a reward function: prompts, completions,
    # completion_ids, then every dataset column repeated per completion, trainer_state,
    # log_extra and log_metric (trl/trainer/grpo_trainer.py).
    prompts = [[{"role": "user", "content": "Say 7"}]] * 3
    completions = [
        [{"role": "assistant", "content": "7"}],
        [{"role": "assistant", "content": "8"}],
        # Only the assistant's words count: a tool message saying "7" is not the policy's.
        [{"role": "tool", "content": "7"}, {"role": "assistant", "content": "9"}],
    ]
    kwargs = dict(
        prompts=prompts,
        completions=completions,
        completion_ids=[[1], [2], [3]],
        answer=["7", "7", "7"],
        domain=["echo", "echo", "echo"],
        trainer_state=object(),
        log_extra=lambda column, values: None,
        log_metric=lambda name, value: None,
    )
    sync_fn = make_reward_func(name="datascale_sync")
    out["trl_sync"] = sync_fn(**kwargs)
    out["trl_sync_name"] = sync_fn.__name__
    async_fn = make_async_reward_func()
    out["trl_async_is_coroutine"] = asyncio.iscoroutinefunction(async_fn)
    out["trl_async"] = asyncio.run(async_fn(**kwargs))
    # Plain-text completions, a per-row reference column.
    out["trl_text"] = sync_fn(
        prompts=["p", "p"], completions=["a", "b"], completion_ids=[[1], [2]],
        domain=["echo", "echo"], reference=['{"answer": "a"}', {"answer": "a"}], trainer_state=None,
    )


def areal_calls(out):
    from datascale_rewards.areal import reward_fn

    # AsyncRewardWrapper (areal/api/reward_api.py) runs the function in a ProcessPoolExecutor:
    # loop.run_in_executor(executor, partial(reward_fn, *args, **kwargs)) under wait_for.
    async def wrapped(calls):
        loop = asyncio.get_event_loop()
        with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
            futs = [loop.run_in_executor(pool, functools.partial(reward_fn, *a, **kw)) for a, kw in calls]
            return await asyncio.wait_for(asyncio.gather(*futs), timeout=15)

    os.environ["DATASCALE_DOMAIN"] = "echo"
    out["areal"] = asyncio.run(
        wrapped(
            [
                (("prompt", "7", [1, 2], [3]), {"answer": "7", "query_id": "q1"}),
                (("prompt", "8", [1, 2], [3]), {"answer": "7", "query_id": "q2"}),
            ]
        )
    )
    out["areal_types"] = [type(x).__name__ for x in out["areal"]]
    # A permanent error raised in the pool process crosses back intact (it must pickle).
    from datascale_rewards import PermanentRewardError

    try:
        asyncio.run(wrapped([(("p", "x", [], []), {"answer": "1", "data_source": "nowhere", "domain": None})]))
        out["areal_permanent"] = "no error"
    except PermanentRewardError as e:
        out["areal_permanent"] = {"status": e.status, "code": e.code}


def verl_calls(out):
    from datascale_rewards import PermanentRewardError
    from datascale_rewards.verl import compute_score

    async def main():
        # NaiveRewardManager.run_single awaits compute_score(data_source=, solution_str=,
        # ground_truth=, extra_info=) with extra_info carrying num_turns and rollout_reward_scores.
        extra = {"index": 0, "num_turns": None, "rollout_reward_scores": {}}
        results = await asyncio.gather(
            compute_score(data_source="echo", solution_str="7", ground_truth="7", extra_info=dict(extra)),
            compute_score(data_source="echo", solution_str="6", ground_truth="7", extra_info=dict(extra)),
            compute_score(data_source="openai/gsm8k", solution_str="So she has 72.\n#### 72",
                          ground_truth="72", extra_info=dict(extra)),
        )
        try:
            await compute_score(data_source="my_source", solution_str="1", ground_truth="1")
            results.append("no error")
        except PermanentRewardError as e:
            results.append({"status": e.status, "code": e.code})
        return results

    out["verl"] = asyncio.run(main())


def client_calls(out):
    from datascale_rewards import Client, PermanentRewardError

    urls = os.environ["DATASCALE_REWARD_URL"].split(",")
    # A dead URL first: its connection error moves the request to the next server.
    dead = "http://127.0.0.1:9"
    c = Client([dead] + urls, retries=len(urls) + 1, backoff=0.01)
    body = {"data_source": "echo", "solution_str": "7", "ground_truth": "7"}
    answers = [c.post("/v1/score", body)["score"] for _ in range(6)]
    out["spread_scores"] = answers
    # A permanent error is raised at once, not retried.
    start = time.monotonic()
    try:
        Client(urls, retries=5, backoff=1.0).post("/v1/score", {"data_source": "nowhere", "solution_str": "", "ground_truth": ""})
        out["permanent"] = "no error"
    except PermanentRewardError as e:
        out["permanent"] = {"status": e.status, "code": e.code, "fast": time.monotonic() - start < 0.9}
    # Overload: many concurrent slow samples on a server admitting one at a time; 429s carry
    # Retry-After and every sample is scored in the end.
    slow_url = os.environ.get("DATASCALE_SLOW_URL")
    if slow_url:
        sc = Client([slow_url], retries=20, backoff=0.05)
        results = [None] * 3

        def one(i):
            results[i] = sc.post("/v1/score", {"data_source": "echo", "solution_str": "slow", "ground_truth": "slow"})["score"]

        threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out["overload"] = results


def main():
    out = {}
    for step in sys.argv[1:]:
        globals()[step + "_calls"](out)
    import datascale_rewards

    out["package_file"] = datascale_rewards.__file__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
