// `datascale schema [--out FILE]`: the JSON Schema of the vocabulary.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { jsonSchemas } from "../core/json-schema.ts";

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: "string" }, help: { type: "boolean" } },
  });
  if (values.help) {
    process.stdout.write("usage: datascale schema [--out FILE]\n");
    return 0;
  }
  const text = `${JSON.stringify(jsonSchemas(), null, 2)}\n`;
  if (values.out !== undefined) await writeFile(values.out, text);
  else process.stdout.write(text);
  return 0;
}
