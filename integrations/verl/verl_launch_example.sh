#!/usr/bin/env bash
# GRPO on verl with DataScale rewards. Start the reward server first:
#   datascale serve-reward --config reward.yaml --port 8000
# and export the data: datascale export verl --in tasks.jsonl --out data/
set -euo pipefail
export DATASCALE_REWARD_URL=${DATASCALE_REWARD_URL:-http://127.0.0.1:8000}
python3 -m verl.trainer.main_ppo \
  algorithm.adv_estimator=grpo \
  data.train_files=data/stage1.parquet data.val_files=data/val.parquet \
  data.train_batch_size=256 data.max_prompt_length=1024 data.max_response_length=2048 \
  actor_rollout_ref.model.path="${MODEL:?set MODEL}" \
  actor_rollout_ref.rollout.name=vllm actor_rollout_ref.rollout.n=8 \
  reward.custom_reward_function.path="$(dirname "$0")/datascale_reward.py" \
  reward.custom_reward_function.name=compute_score \
  reward.reward_manager.name=naive \
  trainer.n_gpus_per_node=8 trainer.nnodes=1 "$@"
