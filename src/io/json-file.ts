// Reads a JSON file, naming the file in both failure modes: unreadable (`not_found`) or not
// JSON (the caller's code, e.g. `bad_checkpoint`).
import { readFile } from "node:fs/promises";
import { DataScaleError } from "../core/errors.ts";

export async function readJsonFile(path: string, badCode: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new DataScaleError("not_found", `${path}: cannot read (${(error as Error).message})`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DataScaleError(badCode, `${path}: not JSON (${(error as Error).message})`);
  }
}
