"""One sample against `POST /v1/score`: what verl passes to its reward function, which the
server maps to a domain and a reference (verl's data sources, or extra_info.domain and
extra_info.reference). Every adapter in this package goes through here."""

import asyncio
import concurrent.futures
import os

from datascale_rewards.client import RewardError, default_client, once

# Only these extra_info keys mean anything to the server; the rest (verl's num_turns,
# rollout_reward_scores, tool fields ...) stay on the client.
EXTRA_KEYS = ("domain", "reference", "question")


class RewardVerdictError(RewardError):
    """The server answered, but the sample's verdict is an error."""


def score_body(data_source, solution_str, ground_truth, extra_info=None):
    extra = extra_info if isinstance(extra_info, dict) else {}
    body = {
        "data_source": str(data_source),
        "solution_str": solution_str,
        "ground_truth": ground_truth,
    }
    sent = {k: extra[k] for k in EXTRA_KEYS if extra.get(k) is not None}
    if sent:
        body["extra_info"] = sent
    return body


def to_result(answer):
    """The server's answer as verl wants it: the same float keys for every sample."""
    if answer.get("verdict") == "error":
        raise RewardVerdictError("DataScale reward error from %s" % answer.get("source"))
    return {
        "score": float(answer["score"]),
        "acc": float(answer["acc"]),
        "invalid": float(answer["invalid"]),
    }


def score(data_source, solution_str, ground_truth, extra_info=None, client=None):
    """Scores one sample; returns {"score", "acc", "invalid"} or raises a RewardError."""
    c = client or default_client()
    return to_result(c.post("/v1/score", score_body(data_source, solution_str, ground_truth, extra_info)))


@once
def _executor():
    # A pool of our own: blocking HTTP must not starve the event loop's default executor,
    # which verl also uses for detokenising.
    workers = int(os.environ.get("DATASCALE_CONCURRENCY", "64"))
    return concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="datascale")


async def ascore(data_source, solution_str, ground_truth, extra_info=None, client=None):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _executor(), lambda: score(data_source, solution_str, ground_truth, extra_info, client)
    )


def score_many(samples, client=None):
    """Scores (data_source, solution_str, ground_truth, extra_info) tuples concurrently, in order."""
    futures = [_executor().submit(score, *s, client=client) for s in samples]
    return [f.result() for f in futures]
