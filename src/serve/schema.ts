// Schema-first routes: every route declares its body and response as zod schemas in Fastify's
// own `schema` slot, and this module makes Fastify use them — a zod type provider (handlers
// see the parsed body's type), a validator that answers 400 naming the field, and a response
// serializer compiled from the response schema once per route.
//
// The serializer exists for one reason: JSON has one number type, and `JSON.stringify(1)` is
// `1`. Python's json reads that as int, and an engine that builds a torch tensor from an
// all-0/1 batch gets int64, whose `.mean()`/`.std()` raise. Fields declared `Float` are
// always written with a decimal point (`1.0`, `0.0`); everything else goes through
// JSON.stringify, so the cost is one string concatenation per float.
//
//   app.withTypeProvider<ZodTypeProvider>().post("/x", { schema: { body: B, response: { 200: R } } }, h)
import type { FastifyInstance, FastifySchemaCompiler, FastifyTypeProvider } from "fastify";
import { z } from "zod";
import { formatZodError, HttpError } from "../core/errors.ts";

export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this["schema"] extends z.ZodType ? z.output<this["schema"]> : unknown;
  serializer: this["schema"] extends z.ZodType ? z.input<this["schema"]> : unknown;
}

const FLOATS = new WeakSet<z.ZodType>();

/** A number written as a JSON float: `1.0`, never `1`. */
export const Float = z.number().meta({ description: "a JSON float, always written with a decimal point" });
FLOATS.add(Float);

/** `x` as JSON text that every JSON reader types as a float. */
export function floatText(x: number): string {
  if (!Number.isFinite(x))
    throw new HttpError(500, "internal", `a non-finite number (${x}) cannot be a reward`);
  // Integers below 1e21 print without exponent or point; `${x}.0` keeps them exact.
  return Number.isInteger(x) && Math.abs(x) < 1e21 ? `${x === 0 ? 0 : x}.0` : String(x);
}

type Ser = (value: unknown) => string;
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function objectSer(def: Def): Ser | undefined {
  const shape = def.shape ?? {};
  const fields = Object.entries(shape).map(([key, s]) => ({
    key,
    head: `${JSON.stringify(key)}:`,
    ser: compileSer(s) ?? JSON.stringify,
  }));
  if (!fields.some((f) => f.ser !== JSON.stringify)) return undefined;
  const loose = def.catchall !== undefined && defOf(def.catchall).type !== "never";
  const known = new Set(Object.keys(shape));
  return (value) => {
    const obj = value as Record<string, unknown>;
    let out = "{";
    for (const f of fields) {
      const v = obj[f.key];
      if (v === undefined) continue;
      out += `${out.length > 1 ? "," : ""}${f.head}${f.ser(v)}`;
    }
    if (loose) {
      for (const [k, v] of Object.entries(obj)) {
        if (known.has(k) || v === undefined) continue;
        out += `${out.length > 1 ? "," : ""}${JSON.stringify(k)}:${JSON.stringify(v)}`;
      }
    }
    return `${out}}`;
  };
}

/** A serializer for the values of `schema`, or undefined when it holds no Float (JSON.stringify does). */
function compileSer(schema: z.ZodType): Ser | undefined {
  if (FLOATS.has(schema)) return (v) => floatText(v as number);
  const def = defOf(schema);
  switch (def.type) {
    case "object":
      return objectSer(def);
    case "array": {
      const el = compileSer(def.element as z.ZodType);
      if (el === undefined) return undefined;
      return (value) => `[${(value as unknown[]).map(el).join(",")}]`;
    }
    case "record": {
      const val = compileSer(def.valueType as z.ZodType);
      if (val === undefined) return undefined;
      return (value) => {
        let out = "{";
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
          if (v === undefined) continue;
          out += `${out.length > 1 ? "," : ""}${JSON.stringify(k)}:${val(v)}`;
        }
        return `${out}}`;
      };
    }
    case "optional":
    case "nullable":
    case "default": {
      const inner = compileSer(def.innerType as z.ZodType);
      if (inner === undefined) return undefined;
      return (v) => (v === null ? "null" : inner(v));
    }
    default:
      return undefined;
  }
}

const unwrap = (s: z.ZodType): z.ZodType => {
  const def = defOf(s);
  return def.type === "optional" || def.type === "nullable" || def.type === "default"
    ? unwrap(def.innerType as z.ZodType)
    : s;
};

/**
 * The keys of the Float fields when every Float in the schema is an object field (none is an
 * array element or record value), else undefined.
 */
function floatFieldKeys(schema: z.ZodType, keys = new Set<string>()): Set<string> | undefined {
  const def = defOf(unwrap(schema));
  if (FLOATS.has(unwrap(schema))) return undefined;
  const children: z.ZodType[] =
    def.type === "object"
      ? Object.entries(def.shape ?? {}).flatMap(([k, s]) => {
          if (!FLOATS.has(unwrap(s))) return [s];
          keys.add(k);
          return [];
        })
      : def.type === "array"
        ? [def.element as z.ZodType]
        : def.type === "record"
          ? [def.valueType as z.ZodType]
          : [];
  for (const c of children) if (floatFieldKeys(c, keys) === undefined) return undefined;
  return keys;
}

/**
 * The JSON text of `value` as `schema` declares it (Floats with a decimal point). When every
 * Float is an object field, JSON.stringify writes the text and a regex adds `.0` to the
 * integers under those keys: in JSON.stringify's output a key's quote follows `{` or `,`,
 * while a quote inside a string is escaped, so only keys match — in nested values too (a
 * combined reward's parts' `score` are floats as well).
 */
export function compileSerializer(schema: z.ZodType): (value: unknown) => string {
  const keys = floatFieldKeys(schema);
  if (keys !== undefined && keys.size > 0) {
    const names = [...keys].map((k) =>
      JSON.stringify(k)
        .slice(1, -1)
        .replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    );
    const re = new RegExp(`([{,]"(?:${names.join("|")})":-?\\d+)(?=[,}])`, "g");
    return (v) => JSON.stringify(v).replace(re, "$1.0");
  }
  return compileSer(schema) ?? ((v) => JSON.stringify(v));
}

const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    const parsed = schema.safeParse(data);
    if (parsed.success) return { value: parsed.data };
    const prefix = httpPart === "body" ? undefined : httpPart;
    return { error: new HttpError(400, "bad_request", formatZodError(parsed.error, { prefix })) };
  };

/** Makes `app` validate and serialize with the zod schemas its routes declare. */
export function useZodSchemas(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(({ schema }) => compileSerializer(schema as z.ZodType));
}
