/**
 * Request bodies are valibot schemas (requests.ts): the routes validate with them, their types are the schemas'
 * output, and the OpenAPI document converts them with @valibot/to-json-schema. Each field's pipe carries the rule in
 * words (`v.description`: the message of a 400 about it, the document's description) and the code of that 400
 * (`x-code` metadata, kept in the document). This file only turns valibot's issues into that 400.
 */
import * as v from "valibot";
import { InvalidRequestError, type InvalidRequestCode } from "../http/errors.js";

/** A field's (or a body's) codes: a wrong value's, and a missing required field's with its message. */
export type FieldCodes = {
  readonly "x-code"?: InvalidRequestCode;
  readonly "x-missing"?: readonly [InvalidRequestCode, string];
};

/** An object schema of fields, its output the TypeScript type of what it admits. */
export type ObjectSchema<T> = v.GenericSchema<unknown, T> & { readonly entries: v.ObjectEntries };

/** A body schema, built on the first request that needs it (lazily.ts). */
export type BodySchema<T> = () => ObjectSchema<T>;

/** `schema` with its rule in words and the code of a 400 about it: the last items of its pipe. */
export const rule = <T extends v.GenericSchema>(schema: T, code: InvalidRequestCode, message: string) =>
  v.pipe(schema, v.description<v.InferOutput<T>, string>(message), v.metadata<v.InferOutput<T>, FieldCodes>({ "x-code": code }));

/** `schema` with the code and message of a 400 when it is a required field that is absent. */
export const whenMissing = <T extends v.GenericSchema>(schema: T, code: InvalidRequestCode, message: string) =>
  v.pipe(schema, v.metadata<v.InferOutput<T>, FieldCodes>({ "x-missing": [code, message] }));

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A map (JSON object) of string keys to `value`s; valibot's record alone would take an array for one. */
export const map = <T extends v.GenericSchema>(value: T) => v.pipe(v.custom<Record<string, unknown>>(isObject), v.record(v.string(), value));

/** A field's schema without its optional wrapper, where its description and codes are. */
function fieldSchema(schema: ObjectSchema<unknown>, name: string): v.GenericSchema | undefined {
  const field = Object.hasOwn(schema.entries, name) ? (schema.entries[name] as v.GenericSchema & { wrapped?: v.GenericSchema }) : undefined;
  return field?.wrapped ?? field;
}

/**
 * The body, checked against its schema, with defaults filled in; else a 400 with the code and rule of the first
 * failing field (a missing required one first, then in the body's order): `body_invalid` for a body that is not an
 * object (or the schema's own `x-code`) and for an unknown field.
 */
export function parseBody<T>(bodySchema: BodySchema<T>, body: unknown, example: string): T {
  const schema = bodySchema();
  if (!isObject(body)) {
    throw new InvalidRequestError((v.getMetadata(schema) as FieldCodes)["x-code"] ?? "body_invalid", `the body must be a JSON object such as ${example}`);
  }
  const result = v.safeParse(schema, body);
  if (result.success) return result.output;
  const names = Object.keys(body);
  const issues = result.issues.map((issue) => ({ issue, name: String(issue.path?.[0]?.key ?? "") }));
  const missing = issues.find(({ issue, name }) => issue.input === undefined && !Object.hasOwn(body, name));
  const { issue, name } = missing ?? issues.reduce((first, next) => (names.indexOf(next.name) < names.indexOf(first.name) ? next : first));
  const field = fieldSchema(schema as ObjectSchema<unknown>, name);
  if (!field || (issue.type === "strict_object" && issue.expected === "never")) {
    throw new InvalidRequestError("body_invalid", `unknown field "${name.slice(0, 40)}"; expected ${Object.keys(schema.entries).join(", ")}`);
  }
  const codes = v.getMetadata(field) as FieldCodes;
  const [code, message] = (missing && codes["x-missing"]) || [codes["x-code"] ?? "body_invalid", v.getDescription(field) ?? `${name} is not valid`];
  throw new InvalidRequestError(code, message);
}
