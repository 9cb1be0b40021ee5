#!/usr/bin/env node
// The `datascale` command: one file per subcommand, loaded on demand.
import { errorMessage } from "../core/errors.ts";

interface Command {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

function cmd(summary: string, load: Command["load"]): Command {
  return { summary, load };
}

// One line per command: [summary, module]. Keep each line short so merges stay line-based.
// One line per command: [summary, module]. Keep each line short so merges stay line-based.
// One line per command: [summary, module]. Keep each line short so merges stay line-based.
// One line per command: [summary, module]. Keep each line short so merges stay line-based.
const COMMANDS: Record<string, Command> = {
  run: cmd("run the main job (see README)", () => import("./run.ts")),
  verify: cmd("verify rollouts JSONL with the reasoning-task verifiers", () => import("./verify.ts")),
  reward: cmd("score rollouts JSONL through the hybrid reward router", () => import("./reward.ts")),
  "serve-reward": cmd("serve rewards (native, OpenRLHF, SandboxFusion)", () => import("./serve-reward.ts")),
  tasks: cmd("list task families; generate seeded reasoning tasks as JSONL", () => import("./tasks.ts")),
  sandbox: cmd("check the code sandbox (doctor) or run one program in it", () => import("./sandbox.ts")),
  select: cmd("Pre-PPO prompt selection (score, normalise, keep the lowest)", () => import("./select.ts")),
  export: cmd("export staged tasks for verl (Parquet) or OpenRLHF (JSONL)", () => import("./export.ts")),
  metrics: cmd("diversity, reward-hacking and judge-sensitivity metrics", () => import("./metrics.ts")),
  references: cmd("build SFT Best-of-N references with a reward model", () => import("./references.ts")),
  "serve-model": cmd("serve a model directory with the OpenAI API", () => import("./serve-model.ts")),
  doctor: cmd("show the engine's compute kernels and which one is in use", () => import("./doctor.ts")),
  schema: cmd("print the JSON Schema of Task, Rollout and Reward", () => import("./schema.ts")),
  train: cmd("train sft|rm|genrm|ppo|grpo on the embedded engine", () => import("./train.ts")),
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: datascale <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun 'datascale <command> --help' for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`datascale: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`datascale: ${errorMessage(error)}\n`);
    process.exitCode = 1;
  },
);
