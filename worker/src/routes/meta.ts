/** The API describing itself: its OpenAPI document, a health check, and the profiles a client may choose from. */
import { configOf, surface } from "../http/context.js";
import { SignerError } from "../http/errors.js";
import { errorResponse } from "../http/on-error.js";
import { API_HEADERS, requestIdOf, respond } from "../http/respond.js";
import { profileSummaries } from "../uploads/permissions.js";

/**
 * `openApi`: the document served at GET /openapi.json by hosts without static files. Workers reads the file from its
 * static assets instead ([assets] in wrangler.toml), keeping it out of the Worker's bundle.
 */
export function metaRoutes(openApi?: object) {
  const app = surface();

  app.get("/openapi.json", async (c) => {
    if (openApi) return respond(c, openApi);
    // Workers: the static file (run_worker_first in wrangler.toml), with the headers every answer has.
    const file = await c.env.ASSETS?.fetch(c.req.raw);
    if (!file?.ok) return errorResponse(c, new SignerError("not_found", "no OpenAPI document here"));
    return new Response(file.body, { headers: { ...API_HEADERS, "X-Request-Id": requestIdOf(c) } });
  });

  app.get("/healthz", (c) => {
    configOf(c);
    return respond(c, { status: "ok" });
  });

  app.get("/v1/profiles", (c) => respond(c, profileSummaries(configOf(c))));

  return app;
}
