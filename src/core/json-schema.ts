// JSON Schema export of the vocabulary, for validators in other languages.
import { z } from "zod";
import { SCHEMAS } from "./schemas.ts";

export function jsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    out[name] = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  }
  return out;
}
