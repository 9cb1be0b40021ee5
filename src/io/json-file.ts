// Reads a JSON file, naming the file in both failure modes: unreadable (`not_found`) or not
// JSON (the caller's code, e.g. `bad_checkpoint`).
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { DataScaleError } from "../core/errors.ts";

export async function readJsonFile(path: string, badCode: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw unreadable(path, error);
  }
  return parseJson(path, text, badCode);
}

/** readJsonFile, synchronously (for loaders that are synchronous end to end). */
export function readJsonFileSync(path: string, badCode: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw unreadable(path, error);
  }
  return parseJson(path, text, badCode);
}

function unreadable(path: string, error: unknown): DataScaleError {
  return new DataScaleError("not_found", `${path}: cannot read (${(error as Error).message})`, {
    cause: error,
  });
}

function parseJson(path: string, text: string, badCode: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DataScaleError(badCode, `${path}: not JSON (${(error as Error).message})`);
  }
}
