// hosts: workers
/**
 * The request bodies of the OpenAPI document are the schemas the routes validate with: for every documented body
 * and field, a wrong value (or a missing required field, or an unknown one) is refused with exactly the code and
 * message the document states for it (`x-code` / `x-missing`, `description`).
 */
import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../../src/http/errors.js";
import { openApiDocument, ROUTES } from "../../src/openapi/document.js";
import { parseBody } from "../../src/schemas/requests.js";

interface FieldDoc {
  type?: string;
  description?: string;
  "x-code"?: string;
  "x-missing"?: [string, string];
}
interface BodyDoc {
  properties: Record<string, FieldDoc>;
  required: string[];
  additionalProperties?: boolean;
}

const document = openApiDocument("test") as { paths: Record<string, Record<string, { requestBody?: { content: { "application/json": { schema: BodyDoc } } } }>> };
const routes = ROUTES.flatMap((route) => (route.body ? [{ name: `${route.method} ${route.path}`, body: route.body, doc: document.paths[route.path]![route.method]!.requestBody!.content["application/json"].schema }] : []));

/** A value of the wrong JSON type for the field: an object for scalars and lists, a string for maps. */
const wrong = (field: FieldDoc) => (field.type === "object" ? "not a map" : { not: "this" });

/** What parseBody answers: the refusal's code and message. */
function refusal(schema: (typeof routes)[number]["body"], body: Record<string, unknown>): [string, string] {
  try {
    parseBody(schema as never, body, "{}");
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return [(error as InvalidRequestError).code, (error as InvalidRequestError).message];
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe("documented request bodies", () => {
  it("cover every route with a body", () => {
    expect(routes.map(({ name }) => name)).toEqual(expect.arrayContaining(["post /v1/uploads", "post /v1/multipart", "post /v1/multipart/parts", "post /v1/cos/authorization"]));
    expect(routes.length).toBe(ROUTES.filter((route) => route.body).length);
  });

  for (const { name, body, doc } of routes) {
    describe(name, () => {
      const others = (except: string) => Object.fromEntries(doc.required.filter((field) => field !== except).map((field) => [field, wrong(doc.properties[field]!)]));

      for (const [field, rule] of Object.entries(doc.properties)) {
        it(`${field}: a wrong value answers its documented code and rule`, () => {
          // The wrong field comes first: a refusal names the first failing field in the body's order.
          expect(refusal(body, { [field]: wrong(rule), ...others(field) })).toEqual([rule["x-code"] ?? "body_invalid", rule.description]);
        });
        if (doc.required.includes(field)) {
          it(`${field}: missing, it answers its documented code and message`, () => {
            expect(refusal(body, others(field))).toEqual(rule["x-missing"] ?? [rule["x-code"] ?? "body_invalid", rule.description]);
          });
        }
      }

      if (doc.additionalProperties === false) {
        it("an unknown field is body_invalid, naming the fields there are", () => {
          expect(refusal(body, { unknownField: 1, ...others("") })).toEqual(["body_invalid", `unknown field "unknownField"; expected ${Object.keys(doc.properties).join(", ")}`]);
        });
      }
    });
  }
});
