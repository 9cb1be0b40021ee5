"""Dataset rows (TRL's and AReaL's keyword columns) to what `POST /v1/score` takes."""

import json

# Columns read as the ground truth, first present wins.
GROUND_TRUTH_COLUMNS = ("ground_truth", "answer", "solution", "label", "expected_answer")


def _text_of(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # [{"type": "text", "text": ...}, ...]
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def completion_text(completion):
    """The model's text: a string, or the assistant messages of a conversational completion.

    Only assistant messages count: tool results and any other role in the list are text the
    policy did not write.
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if isinstance(completion, list):
        return "".join(
            _text_of(m.get("content")) for m in completion if isinstance(m, dict) and m.get("role") == "assistant"
        )
    raise TypeError("a completion is a string or a list of messages, not a %s" % type(completion).__name__)


def question_of(prompt):
    """The last user message of a conversational prompt, or the prompt text."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        users = [_text_of(m.get("content")) for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        return users[-1] if users else None
    return None


def _reference_value(v):
    if isinstance(v, str) and v.strip().startswith("{"):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def row_request(row, prompt, completion, default_domain, default_data_source, ground_truth_column=None):
    """(data_source, solution_str, ground_truth, extra_info) for one row of dataset columns.

    The domain is the row's `domain` column, else the server's mapping of its `data_source`
    column (verl's names), else `default_domain`. A `reference` column (an object or its
    JSON) is the reference as it is; otherwise the ground truth column is mapped by domain.
    """
    extra = {}
    question = question_of(prompt)
    if question:
        extra["question"] = question
    data_source = row.get("data_source") or default_data_source
    if row.get("domain"):
        extra["domain"] = row["domain"]
    elif not row.get("data_source") and default_domain:
        extra["domain"] = default_domain
    if row.get("reference") is not None:
        extra["reference"] = _reference_value(row["reference"])
    columns = (ground_truth_column,) if ground_truth_column else GROUND_TRUTH_COLUMNS
    ground_truth = None
    for name in columns:
        if row.get(name) is not None:
            ground_truth = row[name]
            break
    reward_model = row.get("reward_model")
    if ground_truth is None and isinstance(reward_model, dict):
        ground_truth = reward_model.get("ground_truth")
    return data_source, completion_text(completion), ground_truth, extra
