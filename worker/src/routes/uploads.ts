/** `POST /v1/uploads` (a PUT or POST permission for one new object) and its receipt once uploaded. */
import { readJson, smallBody } from "../http/body.js";
import type { MiddlewareHandler } from "hono";
import { authenticated, limitedPerCaller } from "../http/caller.js";
import { type AppEnv, callerOf, configOf, inBackground, surface } from "../http/context.js";
import { requestIdOf, respond } from "../http/respond.js";
import { receiptOf, receiptsOff } from "../objects/own-objects.js";
import { ObjectRequest, parseBody } from "../schemas/requests.js";
import { issueUpload } from "../uploads/permissions.js";

export const KEY_EXAMPLE = '{"key":"uploads/2026/11/29/<32 hex>.jpg"}';

const receiptsOn: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!configOf(c).receipts) throw receiptsOff();
  await next();
};

export const uploadRoutes = surface()
  .post("/v1/uploads", smallBody, authenticated, limitedPerCaller("SIGN_LIMITER"), async (c) =>
    respond(c, await issueUpload(callerOf(c), configOf(c), await readJson(c), new Date())),
  )
  .post("/v1/uploads/receipt", smallBody, authenticated, limitedPerCaller("SIGN_LIMITER"), receiptsOn, async (c) => {
    const request = parseBody(ObjectRequest, await readJson(c), KEY_EXAMPLE);
    const { answer, delivery } = await receiptOf(callerOf(c), configOf(c), request, new Date(), requestIdOf(c));
    if (delivery) inBackground(c, delivery);
    return respond(c, answer);
  });
