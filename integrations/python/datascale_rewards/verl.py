"""verl reward function: forwards each sample to a DataScale reward server.

    reward.custom_reward_function.path=pkg://datascale_rewards.verl     # verl >= 0.7 (pkg://)
    reward.custom_reward_function.path=/path/to/integrations/verl/datascale_reward.py   # any verl
    reward.custom_reward_function.name=compute_score
    reward.reward_manager.name=naive

`compute_score` is async (verl's reward loop awaits it; sync managers may use
`compute_score_sync`). It returns {"score", "acc", "invalid"} for every sample, floats: verl
indexes every sample by sample 0's keys. The server maps `data_source` and `ground_truth`
(verl's data sources: openai/gsm8k, the MATH sets, math_dapo/aime*, numina_*, codecontests/
apps/codeforces/taco, hiyouga/geometry3k, searchR1_*), or takes extra_info.domain and
extra_info.reference as `datascale export verl` writes them. A data source it does not know
or a ground truth it cannot read raises PermanentRewardError naming the field; an
infrastructure failure raises after the retries. No failure becomes a reward of 0.
"""

from datascale_rewards.score import ascore, score, score_body, to_result  # noqa: F401


async def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    return await ascore(data_source, solution_str, ground_truth, extra_info)


def compute_score_sync(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    return score(data_source, solution_str, ground_truth, extra_info)
