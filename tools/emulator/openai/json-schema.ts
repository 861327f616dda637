/**
 * The subset of JSON Schema that OpenAI structured outputs accept: checks a schema the way the
 * real API does in strict mode, and generates a value that conforms to it.
 */

export type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  $ref?: string;
  $defs?: Record<string, Schema>;
  definitions?: Record<string, Schema>;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
  description?: string;
  [key: string]: unknown;
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Problems OpenAI would answer `400 Invalid schema for response_format` for, in strict mode. */
export function strictSchemaProblems(schema: unknown, path = "root"): string[] {
  if (!isObject(schema)) return [`${path}: schema must be an object`];
  const s = schema as Schema;
  const problems: string[] = [];
  if (path === "root" && s.type !== "object" && !s.anyOf)
    problems.push("root: the root schema must be of type 'object'");
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.includes("object")) {
    if (s.additionalProperties !== false) {
      problems.push(`${path}: 'additionalProperties' is required to be supplied and to be false`);
    }
    const props = Object.keys(s.properties ?? {});
    const required = new Set(s.required ?? []);
    const missing = props.filter((p) => !required.has(p));
    if (missing.length > 0) {
      problems.push(
        `${path}: 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing.join("', '")}'`,
      );
    }
    for (const [k, v] of Object.entries(s.properties ?? {})) problems.push(...strictSchemaProblems(v, `${path}.${k}`));
  }
  if (types.includes("array") && s.items !== undefined) problems.push(...strictSchemaProblems(s.items, `${path}[]`));
  for (const [i, alt] of (s.anyOf ?? []).entries()) problems.push(...strictSchemaProblems(alt, `${path}.anyOf[${i}]`));
  for (const [k, v] of Object.entries(s.$defs ?? s.definitions ?? {}))
    problems.push(...strictSchemaProblems(v, `$defs.${k}`));
  if (!s.type && !s.anyOf && !s.$ref && s.enum === undefined && s.const === undefined) {
    problems.push(`${path}: schema must have a 'type' key`);
  }
  return problems;
}

/** Values for well-known property names, so generated answers read like real ones. */
export type Hints = Record<string, unknown>;

function resolveRef(root: Schema, ref: string): Schema {
  const name = ref.replace(/^#\/(\$defs|definitions)\//, "");
  return root.$defs?.[name] ?? root.definitions?.[name] ?? {};
}

/** A value conforming to `schema`; `hints` (by property name) win when they conform. */
export function generate(schema: Schema, hints: Hints = {}, root: Schema = schema, key = "value", depth = 0): unknown {
  if (depth > 8) return null;
  if (schema.$ref) return generate(resolveRef(root, schema.$ref), hints, root, key, depth + 1);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  if (schema.anyOf && schema.anyOf.length > 0) {
    const first = schema.anyOf.find((a) => a.type !== "null") ?? schema.anyOf[0];
    return generate(first ?? {}, hints, root, key, depth + 1);
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : ["string"];
  const type = types.find((t) => t !== "null") ?? "null";
  const hint = hints[key];
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) out[k] = generate(v, hints, root, k, depth + 1);
      return out;
    }
    case "array": {
      if (
        Array.isArray(hint) &&
        hint.every((h) => typeof h === typeof generate(schema.items ?? {}, {}, root, key, depth + 1))
      ) {
        return hint;
      }
      const n = Math.max(schema.minItems ?? 2, Math.min(2, schema.maxItems ?? 2));
      return Array.from({ length: n }, (_, i) => {
        const item = generate(schema.items ?? {}, {}, root, key, depth + 1);
        return typeof item === "string" ? `${item} ${i + 1}` : item;
      });
    }
    case "string":
      if (typeof hint === "string") return hint;
      if (schema.format === "date-time") return new Date().toISOString();
      if (schema.format === "date") return new Date().toISOString().slice(0, 10);
      if (schema.format === "email") return "someone@example.com";
      if (schema.format === "uri") return "https://example.com/";
      return `Example ${key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()}`;
    case "integer":
      if (typeof hint === "number" && Number.isInteger(hint)) return hint;
      return Math.max(schema.minimum ?? 1, Math.min(1, schema.maximum ?? 1));
    case "number":
      if (typeof hint === "number") return hint;
      return Math.max(schema.minimum ?? 0.5, Math.min(0.5, schema.maximum ?? 0.5));
    case "boolean":
      return typeof hint === "boolean" ? hint : true;
    default:
      return null;
  }
}
