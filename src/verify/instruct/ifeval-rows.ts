// IFEval and IFBench publish prompts as rows of parallel lists; DataScale tasks carry a
// list of {type, kwargs}. This turns one into the other, keeping ids and kwargs unchanged.
import { z } from "zod";
import { formatZodError } from "../../core/errors.ts";
import type { Task } from "../../core/schemas.ts";

export const IfevalRow = z
  .looseObject({
    key: z.union([z.int(), z.string().min(1)]),
    prompt: z.string(),
    instruction_id_list: z.array(z.string().min(1)),
    kwargs: z.array(z.record(z.string(), z.unknown()).nullable()),
  })
  .refine((r) => r.kwargs.length === r.instruction_id_list.length, {
    message: "kwargs and instruction_id_list differ in length",
    path: ["kwargs"],
  });
export type IfevalRow = z.infer<typeof IfevalRow>;

/** A Task for domain `instruction` from one IFEval-format row; throws naming the bad field. */
export function taskFromIfevalRow(raw: unknown, source = "ifeval"): Task {
  const r = IfevalRow.safeParse(raw);
  if (!r.success) throw new Error(`IFEval row: ${formatZodError(r.error)}`);
  const row = r.data;
  return {
    id: row.key,
    domain: "instruction",
    prompt: row.prompt,
    source,
    reference: {
      instructions: row.instruction_id_list.map((type, i) => ({ type, kwargs: row.kwargs[i] ?? {} })),
    },
  };
}
