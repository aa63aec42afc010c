/** The caller's own objects: read URLs, the list and usage from the ledger, deletion. */
import { readJson, smallBody } from "../http/body.js";
import { authenticated, limitedPerCaller } from "../http/caller.js";
import { callerOf, configOf, surface } from "../http/context.js";
import { respond } from "../http/respond.js";
import { deleteOwnObject, listObjects, readUrlOf, usageOf } from "../objects/own-objects.js";
import { ListObjectsRequest, ObjectRequest, parseBody, ReadUrlRequest } from "../schemas/requests.js";
import { KEY_EXAMPLE } from "./uploads.js";

export const objectRoutes = surface()
  .post("/v1/objects/url", smallBody, authenticated, limitedPerCaller("SIGN_LIMITER"), async (c) => {
    const request = parseBody(ReadUrlRequest, await readJson(c), '{"key":"uploads/2026/11/29/<32 hex>.jpg","expiresIn":300}');
    return respond(c, await readUrlOf(callerOf(c), configOf(c), request, new Date()));
  })
  .post("/v1/objects/list", smallBody, authenticated, async (c) => {
    const request = parseBody(ListObjectsRequest, await readJson(c), '{"profile":"default","limit":50}');
    return respond(c, await listObjects(callerOf(c), configOf(c), request));
  })
  .post("/v1/objects/delete", smallBody, authenticated, limitedPerCaller("SIGN_LIMITER"), async (c) =>
    respond(c, await deleteOwnObject(callerOf(c), configOf(c), parseBody(ObjectRequest, await readJson(c), KEY_EXAMPLE))),
  )
  .get("/v1/usage", authenticated, async (c) => respond(c, await usageOf(callerOf(c), configOf(c), new Date())));
