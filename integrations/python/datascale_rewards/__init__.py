"""Clients and training-engine adapters for DataScale reward servers (standard library only).

    datascale_rewards.client   Client (several URLs, retries on 429/503/504), errors
    datascale_rewards.verl     async compute_score for verl's reward loop
    datascale_rewards.trl      make_reward_func / make_async_reward_func for TRL reward_funcs
    datascale_rewards.areal    reward_fn for AReaL's AsyncRewardWrapper
"""

from datascale_rewards.client import (  # noqa: F401
    Client,
    PermanentRewardError,
    RewardError,
    RewardServerError,
)
from datascale_rewards.score import RewardVerdictError, score  # noqa: F401

__version__ = "0.1.0"
