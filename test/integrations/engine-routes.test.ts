// The engines' own requests, byte for byte, against a real reward server, and our answers read
// the way each engine reads them.
//   slime    slime/rollout/rm_hub/__init__.py remote_rm (THUDM/slime 624b824): aiohttp
//            `session.post(url, json=payload)` → json.dumps with default separators; the
//            answer is kept whole as Sample.reward unless --reward-key picks a field.
//   NeMo-Gym responses_api_agents/simple_agent/app.py SimpleAgent.run → ServerClient.post →
//            nemo_gym/server_utils.py request(): orjson.dumps(verify_request.model_dump())
//            (NVIDIA-NeMo/Gym 07d6b0d); fixtures/nemo-gym-verify-request.json is that body,
//            captured by hand from NeMo-Gym's own models and its math_with_judge example row.
//   verl     verl/utils/reward_score/__init__.py default_compute_score's data sources
//            (verl-project/verl 1dda039; the same list in volcengine/verl b178a3c).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { VERL_DATA_SOURCES } from "../../src/reward/data-sources.ts";
import { resolveVerl } from "../../src/serve/verl.ts";
import { pyDumps } from "../fixtures/python.ts";
import { postRaw, startServer, type TestServer } from "./server.ts";

let s: TestServer;
before(async () => {
  s = await startServer();
});
after(async () => {
  await s.close();
});

test("slime remote_rm: the default reward key gets a bare JSON float", async () => {
  const body = pyDumps({ prompt: "What is 2+2?", response: "So \\boxed{4}", label: "4" });
  assert.equal(body, '{"prompt": "What is 2+2?", "response": "So \\\\boxed{4}", "label": "4"}');
  const right = await postRaw(`${s.base}/slime`, body);
  assert.equal(right.status, 200);
  assert.match(right.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(right.text, "1.0"); // json.loads → float 1.0: Sample.reward, get_reward_value
  const chat = pyDumps({
    prompt: [{ role: "user", content: "2+2?" }],
    response: "\\boxed{5}",
    label: "4",
  });
  assert.equal((await postRaw(`${s.base}/slime`, chat)).text, "0.0");
});

test("slime remote_rm with --reward-key reward: a dict of floats", async () => {
  const body = pyDumps({ prompt: "q", response: "\\boxed{4}", label: "4" });
  const res = await postRaw(`${s.base}/slime/dict`, body);
  assert.equal(res.text, '{"reward":1.0,"acc":1.0,"invalid":0.0}');
  // No answer in the response: invalid, reward 0.0 — the prompt's \boxed{4} is never scored.
  const hack = pyDumps({
    prompt: "Example: \\boxed{4}. What is 2+2?",
    response: "I am not sure.",
    label: "4",
  });
  assert.equal((await postRaw(`${s.base}/slime/dict`, hack)).text, '{"reward":0.0,"acc":0.0,"invalid":1.0}');
});

test("slime remote_rm: a label that cannot be read is a 422 naming the label", async () => {
  const res = await postRaw(
    `${s.base}/slime`,
    pyDumps({ prompt: "q", response: "r", label: { answer: "4" } }),
  );
  assert.equal(res.status, 422);
  const err = JSON.parse(res.text) as { error: { code: string; message: string } };
  assert.equal(err.error.code, "bad_label");
  assert.match(err.error.message, /^label: domain/);
  const missing = await postRaw(`${s.base}/slime`, pyDumps({ prompt: "q", label: "4" }));
  assert.equal(missing.status, 400);
  assert.match(missing.text, /response/);
});

const nemoBody = readFileSync(new URL("./fixtures/nemo-gym-verify-request.json", import.meta.url), "utf8");
type Verify = Record<string, unknown> & { reward: number; datascale: { verdict: string } };

async function verify(body: unknown): Promise<{ status: number; text: string; json: Verify }> {
  const res = await postRaw(`${s.base}/verify`, typeof body === "string" ? body : JSON.stringify(body));
  return { status: res.status, text: res.text, json: JSON.parse(res.text) as Verify };
}

test("NeMo-Gym /verify: SimpleAgent's exact body; the answer is the request echoed with a float reward", async () => {
  // The fixture is orjson's output as captured (compact, one line; biome leaves it alone).
  assert.ok(
    nemoBody.startsWith('{"responses_create_params":{"background":null,'),
    "fixture bytes as captured",
  );
  const res = await verify(nemoBody);
  assert.equal(res.status, 200);
  assert.match(res.text, /"reward":1\.0[,}]/);
  const req = JSON.parse(nemoBody) as Record<string, unknown>;
  // BaseVerifyResponse(BaseVerifyRequest): responses_create_params and response validate
  // as they were sent, because they come back as they were sent; the task fields too.
  for (const k of Object.keys(req)) assert.deepEqual(res.json[k], req[k], k);
  assert.equal(res.json.datascale.verdict, "correct");
  // A dataset's own descriptive `domain` label is not a routing domain of ours.
  const labelled = await verify({ ...req, domain: "number theory" });
  assert.equal(labelled.json.reward, 1, labelled.text);
  assert.equal(labelled.json["domain"], "number theory");
});

function withOutput(output: unknown[], patch: Record<string, unknown> = {}): unknown {
  const req = JSON.parse(nemoBody) as { response: Record<string, unknown> } & Record<string, unknown>;
  return { ...req, response: { ...req.response, output }, ...patch };
}
const message = (role: string, text: string) => ({
  id: "m",
  type: "message",
  role,
  status: "completed",
  content: [{ type: "output_text", text, annotations: [] }],
});

test("NeMo-Gym /verify scores only the assistant's output text", async () => {
  const cases: Array<[string, unknown]> = [
    [
      "answer only in reasoning",
      withOutput([
        { id: "r", type: "reasoning", summary: [{ type: "summary_text", text: "\\boxed{32}" }] },
        message("assistant", "I am not sure."),
      ]),
    ],
    [
      "answer only in the input",
      {
        ...(withOutput([message("assistant", "no idea")]) as object),
        responses_create_params: { input: "\\boxed{32}" },
      },
    ],
    [
      "answer in a non-assistant output message",
      withOutput([message("user", "\\boxed{32}"), message("assistant", "hm")]),
    ],
    ["answer in a top-level output_text field", withOutput([message("assistant", "hm")], {})],
    [
      "answer in a refusal part",
      withOutput([{ ...message("assistant", "x"), content: [{ type: "refusal", refusal: "\\boxed{32}" }] }]),
    ],
    [
      "answer as a tool call's arguments",
      withOutput([
        { type: "function_call", id: "f", call_id: "c", name: "answer", arguments: '{"x":"\\\\boxed{32}"}' },
        message("assistant", "done"),
      ]),
    ],
  ];
  (cases[3]![1] as { response: Record<string, unknown> }).response["output_text"] = "\\boxed{32}";
  for (const [name, body] of cases) {
    const res = await verify(body);
    assert.equal(res.status, 200, `${name}: ${res.text}`);
    assert.equal(res.json.reward, 0, name);
    assert.match(res.text, /"reward":0\.0[,}]/, name);
  }
  // Several assistant messages are joined, as the OpenAI SDK's Response.output_text joins them.
  const split = await verify(
    withOutput([message("assistant", "The count is \\boxed{3"), message("assistant", "2}.")]),
  );
  assert.equal(split.json.reward, 1);
});

test("NeMo-Gym /verify reads instruction_following and code_gen task fields", async () => {
  const base = { responses_create_params: { input: "Write without commas." } };
  const response = (text: string) => ({ id: "r", output: [message("assistant", text)] });
  const ifRow = {
    ...base,
    id: 1,
    instruction_id_list: ["punctuation:no_comma", "change_case:english_lowercase"],
    kwargs: [{}, { unused: null }],
    prompt: "Write without commas.",
  };
  assert.equal(
    (await verify({ ...ifRow, response: response("all lowercase and no commas") })).json.reward,
    1,
  );
  // Binary by default (instruction_following's grading_mode), fraction on request.
  assert.equal((await verify({ ...ifRow, response: response("Upper, and commas") })).json.reward, 0);
  const half = {
    ...ifRow,
    verifier_metadata: { grading_mode: "fraction" },
    response: response("lower, with a comma"),
  };
  // Legacy top-level fields merge into verifier_metadata, whose own values win.
  assert.equal((await verify(half)).json.reward, 0.5);
  const badMode = await verify({ ...ifRow, grading_mode: "partial", response: response("x") });
  assert.equal(badMode.status, 422);
  assert.match(badMode.text, /grading_mode: expected binary or fraction/);
  const meta = {
    ...base,
    id: 2,
    verifier_metadata: {
      instruction_id_list: ["punctuation:no_comma", "change_case:english_lowercase"],
      kwargs: [{}, {}],
      prompt: "p",
      grading_mode: "fraction",
    },
    response: response("lower, with a comma"),
  };
  assert.equal((await verify(meta)).json.reward, 0.5);
  const code = {
    ...base,
    verifier_metadata: { unit_tests: { inputs: ["1 2\n", "3 4\n"], outputs: ["3\n", "7\n"], fn_name: null } },
    response: response("```python\na, b = map(int, input().split())\nprint(a + b)\n```"),
  };
  const ran = await verify(code);
  assert.equal(ran.status, 200, ran.text);
  assert.equal(ran.json.reward, 1);
});

test("NeMo-Gym /verify: no task fields is a 422 naming what is expected", async () => {
  const res = await verify({ responses_create_params: { input: "x" }, response: { output: [] } });
  assert.equal(res.status, 422);
  assert.match(res.text, /expected_answer, verifier_metadata\.unit_tests/);
  const bad = await verify({ responses_create_params: {}, response: { output: "no" } });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /response\.output/);
});

test("NeMo-Gym /seed_session, /aggregate_metrics and /reverify_mode answer as the base server does", async () => {
  assert.equal((await postRaw(`${s.base}/seed_session`, '{"x": 1}')).text, "{}");
  const mode = await fetch(`${s.base}/reverify_mode`);
  assert.match(mode.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(await mode.text(), '"stateless"');
  const rows = [
    { _ng_task_index: 0, _ng_rollout_index: 0, reward: 1.0, follow: true },
    { _ng_task_index: 0, _ng_rollout_index: 1, reward: 0.0, follow: false },
    { _ng_task_index: 1, _ng_rollout_index: 0, reward: 1.0, follow: true },
  ];
  const res = await postRaw(`${s.base}/aggregate_metrics`, JSON.stringify({ verify_responses: rows }));
  const m = JSON.parse(res.text) as {
    group_level_metrics: Record<string, number>[];
    agent_metrics: Record<string, number>;
    key_metrics: Record<string, number>;
  };
  assert.equal(m.group_level_metrics.length, 2);
  assert.equal(m.group_level_metrics[0]!["mean/reward"], 0.5);
  assert.equal(m.group_level_metrics[1]!["std/reward"], 0);
  assert.ok(Math.abs(m.agent_metrics["mean/reward"]! - 2 / 3) < 1e-12);
  assert.equal(m.agent_metrics["median/follow"], 1);
  assert.deepEqual(Object.keys(m.key_metrics).sort(), ["mean/follow", "mean/reward"]);
  assert.match(res.text, /"agent_metrics":\{"mean\/reward":0\.6+\d*,"max\/reward":1\.0,/);
});

// verl's own ground-truth shapes per data source (examples/data_preprocess/*.py and
// default_compute_score's branches, verl-project/verl 1dda039).
const VERL_ROWS: Array<{ ds: string; gt: unknown; right: string; wrong: string }> = [
  { ds: "openai/gsm8k", gt: "72", right: "48 + 24 = 72\n#### 72", wrong: "#### 70" },
  { ds: "lighteval/MATH", gt: "\\frac{1}{2}", right: "So $\\boxed{\\frac12}$.", wrong: "\\boxed{2}" },
  { ds: "DigitalLearningGmbH/MATH-lighteval", gt: "4", right: "\\boxed{4}", wrong: "\\boxed{5}" },
  { ds: "HuggingFaceH4/MATH-500", gt: "\\frac{1}{2}", right: "\\boxed{0.5}", wrong: "\\boxed{1}" },
  { ds: "math_dapo", gt: "34", right: "Answer: 34", wrong: "Answer: 33" },
  { ds: "math", gt: "34", right: "Answer: 34", wrong: "Answer: 33" },
  { ds: "math_dapo_reasoning", gt: "34", right: "Answer: 34", wrong: "Answer: 33" },
  { ds: "aime2025", gt: "204", right: "\\boxed{204}", wrong: "\\boxed{203}" },
  ...[
    "numina_aops_forum",
    "numina_synthetic_math",
    "numina_amc_aime",
    "numina_synthetic_amc",
    "numina_cn_k12",
    "numina_olympiads",
  ].map((ds) => ({ ds, gt: "12", right: "\\boxed{12}", wrong: "\\boxed{13}" })),
  {
    ds: "hiyouga/geometry3k",
    gt: "3\\sqrt{2}",
    right: "<think>…</think> \\boxed{3\\sqrt{2}}",
    wrong: "\\boxed{3}",
  },
  ...[
    "searchR1_nq",
    "searchR1_triviaqa",
    "searchR1_popqa",
    "searchR1_hotpotqa",
    "searchR1_2wikimultihopqa",
    "searchR1_musique",
    "searchR1_bamboogle",
  ].map((ds) => ({
    ds,
    gt: { target: ["Eiffel Tower", "La tour Eiffel"] },
    right: "<answer>the eiffel tower.</answer>",
    wrong: "<answer>Big Ben</answer>",
  })),
];

async function score(ds: string, solution: string, gt: unknown, extra?: Record<string, unknown>) {
  const body = {
    data_source: ds,
    solution_str: solution,
    ground_truth: gt,
    ...(extra ? { extra_info: extra } : {}),
  };
  const res = await postRaw(`${s.base}/v1/score`, JSON.stringify(body));
  return { status: res.status, text: res.text, json: JSON.parse(res.text) as Record<string, unknown> };
}

test("every data source verl's default_compute_score knows is routed by default", async () => {
  const listed = new Set(VERL_ROWS.map((r) => r.ds));
  for (const entry of VERL_DATA_SOURCES) {
    for (const name of entry.names) {
      if (entry.kind !== "code") assert.ok(listed.has(name), `${name} has a case`);
    }
  }
  for (const row of VERL_ROWS) {
    const right = await score(row.ds, row.right, row.gt);
    assert.equal(right.status, 200, `${row.ds}: ${right.text}`);
    assert.equal(right.json["score"], 1, `${row.ds} right: ${right.text}`);
    assert.match(right.text, /^\{"score":1\.0,"acc":1\.0,"invalid":0\.0,/);
    const wrong = await score(row.ds, row.wrong, row.gt);
    assert.equal(wrong.json["score"], 0, `${row.ds} wrong: ${wrong.text}`);
  }
});

test("verl code sources: {inputs, outputs} as a JSON string or object, scored as the fraction passed", async () => {
  const tests = { inputs: ["1 2\n", "3 4\n"], outputs: ["3\n", "7\n"] };
  const add = "```python\na, b = map(int, input().split())\nprint(a + b)\n```";
  const mul = "```python\na, b = map(int, input().split())\nprint(a * b)\n```";
  for (const ds of ["codecontests", "apps", "codeforces", "taco", "primeintellect", "livecodebench"]) {
    const r = await score(ds, add, JSON.stringify(tests));
    assert.equal(r.json["score"], 1, `${ds}: ${r.text}`);
  }
  // 1*2 ≠ 3, 3*4 ≠ 7: none pass; with outputs ["2\n","7\n"] one of two passes.
  assert.equal((await score("apps", mul, tests)).json["score"], 0);
  const half = await score("taco", mul, { inputs: tests.inputs, outputs: ["2\n", "7\n"] });
  assert.equal(half.json["score"], 0.5);
  assert.equal(half.json["verdict"], "partial");
  const calls = {
    inputs: [
      [1, 2],
      [3, 4],
    ],
    outputs: [3, 7],
    fn_name: "add",
  };
  const fn = await score("apps", "```python\ndef add(a, b):\n    return a + b\n```", JSON.stringify(calls));
  assert.equal(fn.json["score"], 1, fn.text);
});

test("verl: unknown data sources and unreadable ground truths are 422s naming the field", async () => {
  const unknown = await score("my_dataset", "1", "1");
  assert.equal(unknown.status, 422);
  assert.match(unknown.text, /"code":"unknown_data_source".*data_source: 'my_dataset'/);
  const badCode = await score("apps", "x", '{"inputs": [1], "outputs": 2}');
  assert.equal(badCode.status, 422);
  assert.match(badCode.text, /ground_truth\.outputs: expected a list/);
  const badMath = await score("openai/gsm8k", "#### 1", { answer: "1" });
  assert.match(badMath.text, /ground_truth: expected a string answer, got an object/);
  const badQa = await score("searchR1_nq", "<answer>x</answer>", { target: [] });
  assert.match(badQa.text, /ground_truth\.target: no gold answers/);
  // extra_info.domain and extra_info.reference (datascale export verl) win over the data source.
  const exported = await score("anything", "7", "ignored", { domain: "echo", reference: { answer: "7" } });
  assert.equal(exported.json["score"], 1, exported.text);
});

test("resolveVerl maps a data source that names a served domain, else refuses it", () => {
  const req = { data_source: "echo", solution_str: "", ground_truth: "7" };
  assert.deepEqual(resolveVerl(req, ["echo"]), { ok: true, domain: "echo", reference: { answer: "7" } });
  assert.equal(resolveVerl(req, []).ok, false);
  const gsm = resolveVerl({ data_source: "openai/gsm8k", solution_str: "", ground_truth: ["72"] });
  assert.deepEqual(gsm, { ok: true, domain: "math", reference: { answer: "72" } });
});
