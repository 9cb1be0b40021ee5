import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from "hyparquet";
import type { Task } from "../../src/core/schemas.ts";
import { exportSchedule, openrlhfRow } from "../../src/schedule/export.ts";
import { groupByDomain, sampleSchedule } from "../../src/schedule/sampler.ts";
import { paperSchedule, parseSchedule, type Schedule } from "../../src/schedule/schedule.ts";

const root = await mkdtemp(join(tmpdir(), "ds-schedule-"));
after(() => rm(root, { recursive: true, force: true }));

function pool(): Task[] {
  const tasks: Task[] = [];
  for (let i = 0; i < 30; i++)
    tasks.push({ id: `m${i}`, domain: "math", prompt: `m${i}`, reference: { answer: i } });
  for (let i = 0; i < 20; i++)
    tasks.push({ id: `c${i}`, domain: "code", prompt: `c${i}`, reference: { tests: [] } });
  for (let i = 0; i < 50; i++) {
    tasks.push({
      id: `g${i}`,
      domain: "general",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: `g${i}` },
      ],
      meta: { selection: { status: "selected", mean: i / 100 } },
    });
  }
  return tasks;
}

test("the sampler honours stage boundaries, weights and lengths, deterministically per seed", () => {
  const schedule: Schedule = {
    batchSize: 50,
    seed: 3,
    stages: [
      { name: "s1", steps: 40, weights: { math: 3, code: 1 } },
      { name: "s2", samples: 2025, weights: { math: 1, code: 1, general: 2 } },
    ],
  };
  const byDomain = groupByDomain(pool());
  const batches = [...sampleSchedule(schedule, byDomain)];
  assert.equal(batches.length, 40 + 41);
  assert.equal(batches[39]!.stage, "s1");
  assert.equal(batches[40]!.stage, "s2");
  assert.equal(batches[40]!.step, 40);
  assert.equal(batches[40]!.stageStep, 0);
  assert.equal(batches.at(-1)!.tasks.length, 25, "a stage measured in samples ends with a partial batch");
  const count = (stage: string) => {
    const c: Record<string, number> = { math: 0, code: 0, general: 0 };
    for (const b of batches.filter((x) => x.stage === stage)) for (const t of b.tasks) c[t.domain]!++;
    return c;
  };
  const s1 = count("s1");
  assert.equal(s1.general, 0, "stage 1 has no general prompts");
  assert.ok(Math.abs(s1.math! / 2000 - 0.75) < 0.03, `stage 1 math share ${s1.math! / 2000}`);
  const s2 = count("s2");
  assert.ok(Math.abs(s2.general! / 2025 - 0.5) < 0.03, `stage 2 general share ${s2.general! / 2025}`);
  assert.ok(Math.abs(s2.code! / 2025 - 0.25) < 0.03);
  // Each pass over a domain shows every task once before any repeats.
  const firstMath = batches
    .flatMap((b) => b.tasks)
    .filter((t) => t.domain === "math")
    .slice(0, 30);
  assert.equal(new Set(firstMath.map((t) => t.id)).size, 30);

  const ids = (s: Schedule) =>
    [...sampleSchedule(s, byDomain)].flatMap((b) => b.tasks.map((t) => t.id)).join(",");
  assert.equal(ids(schedule), ids(schedule));
  assert.notEqual(ids(schedule), ids({ ...schedule, seed: 4 }));
});

test("a weighted domain without tasks is left out of its stage", () => {
  const tasks = pool().filter((t) => t.domain !== "code");
  const batches = [
    ...sampleSchedule(paperSchedule({ batchSize: 4, stage1Steps: 3, stage2Steps: 1 }), groupByDomain(tasks)),
  ];
  assert.ok(
    batches.filter((b) => b.stageIndex === 0).every((b) => b.tasks.every((t) => t.domain === "math")),
  );
});

test("the default schedule is the paper's: math and code first, then everything", () => {
  const s = paperSchedule({ batchSize: 4, stage1Steps: 5, stage2Steps: 50 });
  const batches = [...sampleSchedule(s, groupByDomain(pool()))];
  const stage1 = batches.filter((b) => b.stageIndex === 0).flatMap((b) => b.tasks);
  assert.equal(stage1.length, 20);
  assert.ok(stage1.every((t) => t.domain === "math" || t.domain === "code"));
  const stage2 = batches.filter((b) => b.stageIndex === 1).flatMap((b) => b.tasks);
  assert.ok(stage2.some((t) => t.domain === "general"));
});

test("bad schedules are refused with the field named", () => {
  assert.throws(
    () => parseSchedule({ batchSize: 2, stages: [{ name: "x" }] }, "s.json"),
    /s\.json: stages\.0\.steps/,
  );
  assert.throws(
    () => [...sampleSchedule(paperSchedule(), groupByDomain([{ id: 1, domain: "general", prompt: "p" }]))],
    /stage 'stage1-math-code' weights 'math', 'code', which have no tasks/,
  );
});

test("verl export: one Parquet per stage that reads back with verl's exact schema and values", async () => {
  const out = join(root, "verl");
  const schedule = paperSchedule({ batchSize: 8, stage1Steps: 3, stage2Steps: 5, seed: 1 });
  const byDomain = groupByDomain(pool());
  const res = await exportSchedule("verl", schedule, byDomain, out);
  assert.deepEqual(
    res.stages.map((s) => [s.name, s.rows]),
    [
      ["stage1-math-code", 24],
      ["stage2-all", 40],
    ],
  );
  const expected = [...sampleSchedule(schedule, byDomain)];
  for (const [i, stage] of res.stages.entries()) {
    const file = await asyncBufferFromFile(stage.file);
    const md = await parquetMetadataAsync(file);
    const tree = parquetSchema(md);
    const shape = (n: typeof tree): unknown =>
      n.children.length === 0
        ? n.element.type
        : Object.fromEntries(n.children.map((c) => [c.element.name, shape(c)]));
    assert.deepEqual(shape(tree), {
      data_source: "BYTE_ARRAY",
      prompt: { list: { element: { role: "BYTE_ARRAY", content: "BYTE_ARRAY" } } },
      ability: "BYTE_ARRAY",
      reward_model: { style: "BYTE_ARRAY", ground_truth: "BYTE_ARRAY" },
      extra_info: {
        index: "INT64",
        id: "BYTE_ARRAY",
        domain: "BYTE_ARRAY",
        question: "BYTE_ARRAY",
        reference: "BYTE_ARRAY",
        stage: "BYTE_ARRAY",
        meta: "BYTE_ARRAY",
      },
    });
    const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
    const tasks = expected.filter((b) => b.stageIndex === i).flatMap((b) => b.tasks);
    assert.equal(rows.length, tasks.length);
    rows.forEach((row, j) => {
      const t = tasks[j]!;
      assert.equal(row.data_source, t.domain);
      assert.deepEqual(row.prompt, t.messages ?? [{ role: "user", content: t.prompt }]);
      assert.equal(row.ability, t.domain);
      assert.deepEqual(row.reward_model, {
        style: t.domain === "general" ? "model" : "rule",
        ground_truth: t.domain === "math" ? String(t.reference!.answer) : JSON.stringify(t.reference ?? {}),
      });
      assert.deepEqual(row.extra_info, {
        index: BigInt(j),
        id: t.id,
        domain: t.domain,
        question: t.prompt ?? t.messages!.at(-1)!.content,
        reference: JSON.stringify(t.reference ?? {}),
        stage: stage.name,
        meta: JSON.stringify(t.meta ?? {}),
      });
    });
  }
  const launch = await readFile(res.launch, "utf8");
  assert.match(launch, /data\.shuffle=False/);
  assert.match(launch, /trainer\.resume_from_path="\$CKPT_DIR\/stage1-math-code\/global_step_3"/);
  assert.equal(launch.match(/verl\.trainer\.main_ppo/g)?.length, 2);
});

test("OpenRLHF export: input is chat messages, label is JSON {domain, reference}", async () => {
  const out = join(root, "openrlhf");
  const schedule = paperSchedule({ batchSize: 2, stage1Steps: 2, stage2Steps: 2 });
  const res = await exportSchedule("openrlhf", schedule, groupByDomain(pool()), out);
  const lines = (await readFile(res.stages[0]!.file, "utf8")).trim().split("\n");
  assert.equal(lines.length, 4);
  const row = JSON.parse(lines[0]!) as { input: unknown; label: string };
  const label = JSON.parse(row.label) as { domain: string; reference: unknown };
  assert.ok(label.domain === "math" || label.domain === "code");
  assert.deepEqual(openrlhfRow({ id: 1, domain: "math", prompt: "2+2", reference: { answer: 4 } }), {
    input: [{ role: "user", content: "2+2" }],
    label: '{"domain":"math","reference":{"answer":4},"id":1}',
    datasource: "math",
    id: "1",
  });
  assert.match(await readFile(res.launch, "utf8"), /--input_key input --label_key label/);
});
