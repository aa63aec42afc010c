/**
 * `npm run openapi`: writes public/openapi.json from the schemas the routes validate with (worker/src/openapi/).
 * Workers serves it as a static asset; the Node, SCF and EdgeOne builds bundle it. A test fails when the committed
 * file and this output differ: run this after changing a schema or a route.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { openApiDocument } from "../worker/src/openapi/document.js";

const root = resolve(import.meta.dirname, "..");

export async function openApiText(): Promise<string> {
  const { version } = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { version: string };
  return `${JSON.stringify(openApiDocument(version), null, 2)}\n`;
}

if (process.argv[1] === import.meta.filename) {
  await writeFile(join(root, "public/openapi.json"), await openApiText());
  console.log("wrote public/openapi.json");
}
