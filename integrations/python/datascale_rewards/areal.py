"""AReaL `reward_fn` backed by a DataScale reward server.

    from datascale_rewards.areal import reward_fn
    self.async_reward_fn = AsyncRewardWrapper(reward_fn)

AReaL calls `reward_fn(prompt, completions, prompt_ids, completion_ids, **task_data)` in a
process pool (AsyncRewardWrapper: 15 s timeout, 3 retries; a timeout on every try becomes a
reward of 0 there). So this function keeps its own deadline under that timeout
(DATASCALE_DEADLINE_S, default 12 s) and raises when it cannot score — AReaL retries an
exception and then raises it, instead of training on a 0. It is a module-level function, so
the pool can pickle it. The ground truth is task_data's ground_truth, answer, solution,
label or expected_answer (e.g. GSM8K's raw answer with `#### 72`); `domain`/`reference`/
`data_source` in task_data work as in the TRL adapter. DATASCALE_DOMAIN sets the default
domain (math).
"""

import os

from datascale_rewards.client import Client
from datascale_rewards.columns import row_request
from datascale_rewards.score import score

_client = None
_client_pid = None


def _areal_client():
    global _client, _client_pid
    # One client per pool process (a forked child must not share its parent's counter lock).
    if _client is None or _client_pid != os.getpid():
        deadline = float(os.environ.get("DATASCALE_DEADLINE_S", "12"))
        _client = Client(deadline=deadline, timeout=min(deadline, float(os.environ.get("DATASCALE_TIMEOUT_S", "120"))))
        _client_pid = os.getpid()
    return _client


def reward_fn(prompt, completions, prompt_ids=None, completion_ids=None, **kwargs):
    request = row_request(kwargs, prompt, completions, os.environ.get("DATASCALE_DOMAIN", "math"), "areal")
    return score(*request, client=_areal_client())["score"]
