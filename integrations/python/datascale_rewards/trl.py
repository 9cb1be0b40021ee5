"""TRL `reward_funcs` backed by a DataScale reward server.

    from datascale_rewards.trl import make_reward_func, make_async_reward_func
    trainer = GRPOTrainer(..., reward_funcs=[make_reward_func(domain="math")])

TRL calls `f(prompts=, completions=, completion_ids=, trainer_state=, ..., **dataset_columns)`
once per batch and takes a list of floats (None becomes NaN). Completions may be strings or
conversational message lists; only assistant messages are scored. The ground truth is the
first of the columns ground_truth, answer, solution, label, expected_answer (or
`ground_truth_column`); a `reference` column is used as the reference itself; a `domain` or
`data_source` column picks the domain per row. Samples are scored concurrently, spread over
the client's servers. A permanent error (4xx) raises; an infrastructure failure raises
(on_error="raise", the default) or gives None for that sample (on_error="none"), which TRL
ignores in its sum over reward functions — never a silent 0.
"""

import asyncio

from datascale_rewards.client import PermanentRewardError, RewardError
from datascale_rewards.columns import row_request
from datascale_rewards.score import _executor, score

_SKIP = ("trainer_state", "log_extra", "log_metric", "environments")


def _requests(prompts, completions, kwargs, domain, data_source, ground_truth_column):
    n = len(completions)
    columns = {k: v for k, v in kwargs.items() if k not in _SKIP and isinstance(v, (list, tuple)) and len(v) == n}
    out = []
    for i in range(n):
        row = {k: v[i] for k, v in columns.items()}
        prompt = prompts[i] if prompts is not None and i < len(prompts) else None
        out.append(row_request(row, prompt, completions[i], domain, data_source, ground_truth_column))
    return out


def _one(request, client, on_error):
    try:
        return score(*request, client=client)["score"]
    except PermanentRewardError:
        raise
    except RewardError:
        if on_error == "none":
            return None
        raise


def _check(on_error):
    if on_error not in ("raise", "none"):
        raise ValueError("on_error must be 'raise' or 'none'")


def make_reward_func(domain="math", data_source="trl", ground_truth_column=None, client=None, on_error="raise",
                     name="datascale"):
    """A synchronous TRL reward function."""
    _check(on_error)

    def reward_func(prompts=None, completions=None, completion_ids=None, **kwargs):
        requests = _requests(prompts, completions, kwargs, domain, data_source, ground_truth_column)
        futures = [_executor().submit(_one, r, client, on_error) for r in requests]
        return [f.result() for f in futures]

    reward_func.__name__ = name
    return reward_func


def make_async_reward_func(domain="math", data_source="trl", ground_truth_column=None, client=None,
                           on_error="raise", name="datascale"):
    """An `async def` TRL reward function (TRL gathers async reward functions concurrently)."""
    _check(on_error)

    async def reward_func(prompts=None, completions=None, completion_ids=None, **kwargs):
        requests = _requests(prompts, completions, kwargs, domain, data_source, ground_truth_column)
        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(*(loop.run_in_executor(_executor(), _one, r, client, on_error)
                                           for r in requests)))

    reward_func.__name__ = name
    return reward_func
