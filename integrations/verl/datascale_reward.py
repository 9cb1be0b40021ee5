"""verl custom reward function that forwards to a DataScale reward server.

Kept at this path for existing configs; the code lives in the datascale_rewards package
(integrations/python, `pip install ./integrations/python`):

    reward.custom_reward_function.path=/path/to/integrations/verl/datascale_reward.py
    reward.custom_reward_function.name=compute_score

Works without installing the package: the package's directory next to this file is used
when `datascale_rewards` is not importable. See datascale_rewards/verl.py for what is sent
and returned.
"""

import os
import sys

try:
    import datascale_rewards  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from datascale_rewards.verl import compute_score, compute_score_sync, score_body, to_result  # noqa: E402,F401
