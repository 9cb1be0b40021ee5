// What the reward-server benchmarks share: a `serve-reward` child process on a free
// loopback port, autocannon posting JSON bodies to it, and OpenRLHF's one-sample body.
import { spawn } from "node:child_process";
import autocannon from "autocannon";

export interface ServerProcess {
  url: string;
  pid: number;
  stop: () => Promise<void>;
}

/** Starts `node <main> serve-reward --port 0 <args>` and resolves with the URL it logs. */
export async function startRewardServer(main: string, args: readonly string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [main, "serve-reward", "--port", "0", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d;
      const m = /reward server on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1] as string);
    });
    child.on("exit", (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
  return {
    url,
    pid: child.pid as number,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/** autocannon POSTing `bodies` (in turn) to `url + path` for `duration` seconds. */
export function postLoad(
  url: string,
  path: string,
  bodies: readonly string[],
  connections: number,
  duration: number,
): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections,
    duration,
    requests: bodies.map((body) => ({
      method: "POST" as const,
      path,
      headers: { "content-type": "application/json" },
      body,
    })),
  });
}

/** One OpenRLHF sample as its remote reward client sends it: ChatML query, prompt and label. */
export function openrlhfBody(prompt: string, response: string, reference: unknown): string {
  const head = `<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant\n`;
  return JSON.stringify({
    query: [`${head}${response}<|im_end|>`],
    prompts: [head],
    labels: [JSON.stringify({ domain: "math", reference })],
  });
}
