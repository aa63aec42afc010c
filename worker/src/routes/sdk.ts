/**
 * Tencent's SDKs, pointed here by their getAuthorization hook (`/v1/cos/…`, off unless SDK_ROUTES=true). Every call
 * counts per caller in COS_AUTH_LIMITER (a slice upload makes one per part); a request that starts a new object also
 * counts as a new upload (SIGN_LIMITER).
 */
import { createMiddleware } from "hono/factory";
import { readJson, smallBody } from "../http/body.js";
import { authenticated, callerKey, limitedBy, limitedPerCaller, servedWhen } from "../http/caller.js";
import { type AppEnv, callerOf, configOf, surface } from "../http/context.js";
import { respond } from "../http/respond.js";
import { CredentialsRequest, KeysRequest, parseBody, SdkAuthorizationRequest } from "../schemas/requests.js";
import { authorizeSdkCall, type SdkCall, sdkCall, sdkKey, startsObject, temporaryKeys } from "../sdk/operations.js";

const sdkRoutesOn = servedWhen(
  (config) => config.sdkRoutes,
  "sdk_routes_off",
  (path) => `${path} is off: set SDK_ROUTES=true to serve Tencent's SDKs (what their signatures bind: docs/security.md)`,
);

type SdkEnv = AppEnv & { Variables: { call: SdkCall } };

/** The request the SDK wants signed, checked against the profile and the caller's own space. */
const checkedCall = createMiddleware<SdkEnv>(async (c, next) => {
  const body = parseBody(SdkAuthorizationRequest, await readJson(c), '{"Bucket":"…","Region":"…","Method":"put","Pathname":"/<key>","Headers":{…}}');
  c.set("call", sdkCall(callerOf(c), configOf(c), body));
  await next();
});

const newUploadsPerCaller = limitedBy<SdkEnv>("SIGN_LIMITER", callerKey, (c) => startsObject(c.var.call));

export const sdkRoutes = surface()
  .post("/v1/cos/keys", smallBody, sdkRoutesOn, authenticated, limitedPerCaller("COS_AUTH_LIMITER"), async (c) =>
    respond(c, sdkKey(callerOf(c), configOf(c), parseBody(KeysRequest, await readJson(c), '{"ext":"jpg"}'), new Date())),
  )
  .post("/v1/cos/authorization", smallBody, sdkRoutesOn, authenticated, limitedPerCaller("COS_AUTH_LIMITER"), checkedCall, newUploadsPerCaller, async (c) =>
    respond(c, await authorizeSdkCall(callerOf(c), c.var.call, new Date())),
  )
  .post("/v1/cos/credentials", smallBody, sdkRoutesOn, authenticated, limitedPerCaller("COS_AUTH_LIMITER"), async (c) =>
    respond(c, await temporaryKeys(callerOf(c), configOf(c), parseBody(CredentialsRequest, await readJson(c), '{"profile":"default"}'), new Date())),
  );
