/**
 * Multipart uploads (`/v1/multipart…`): start one, then sign parts, list, complete or abort it with its upload
 * token. A token's calls count per upload (MULTIPART_LIMITER), not against the caller's new uploads: a 2 GB file
 * needs ~7 of them, a resume a few more.
 */
import { createMiddleware } from "hono/factory";
import { partsBody, readJson, smallBody } from "../http/body.js";
import { authenticated, limitedBy, limitedPerCaller } from "../http/caller.js";
import { type AppEnv, callerOf, configOf, surface } from "../http/context.js";
import { respond } from "../http/respond.js";
import { verifyUploadToken } from "../multipart/index.js";
import { abandonUpload, finishUpload, signMoreParts, startUpload, type TokenUpload, uploadedParts } from "../multipart/lifecycle.js";
import { type BodySchema, parseBody, PartsRequest, UploadTokenRequest } from "../schemas/requests.js";

const TOKEN_EXAMPLE = '{"token":"<from POST /v1/multipart>"}';

type UploadEnv<T> = AppEnv & { Variables: { body: T; upload: TokenUpload } };

/** The body, and the upload its token names, checked: this signer's, unexpired, the caller's own (after `authenticated`). */
const tokenUpload = <T extends { token: string }>(schema: BodySchema<T>) =>
  createMiddleware<UploadEnv<T>>(async (c, next) => {
    const body = parseBody(schema, await readJson(c), TOKEN_EXAMPLE);
    c.set("body", body);
    c.set("upload", await verifyUploadToken(body.token, configOf(c).profiles, callerOf(c).user, new Date()));
    await next();
  });

const limitedPerUpload = limitedBy<UploadEnv<{ token: string }>>("MULTIPART_LIMITER", (c) => `upload:${c.var.upload.claims.uploadId}`);

export const multipartRoutes = surface()
  .post("/v1/multipart", smallBody, authenticated, limitedPerCaller("SIGN_LIMITER"), async (c) =>
    respond(c, await startUpload(callerOf(c), configOf(c), await readJson(c), new Date())),
  )
  .post("/v1/multipart/parts", partsBody, authenticated, tokenUpload(PartsRequest), limitedPerUpload, async (c) =>
    respond(c, await signMoreParts(c.var.upload, c.var.body, new Date())),
  )
  .post("/v1/multipart/list", smallBody, authenticated, tokenUpload(UploadTokenRequest), limitedPerUpload, async (c) =>
    respond(c, await uploadedParts(c.var.upload)),
  )
  .post("/v1/multipart/complete", smallBody, authenticated, tokenUpload(UploadTokenRequest), limitedPerUpload, async (c) =>
    respond(c, await finishUpload(callerOf(c), configOf(c), c.var.upload)),
  )
  .post("/v1/multipart/abort", smallBody, authenticated, tokenUpload(UploadTokenRequest), limitedPerUpload, async (c) =>
    respond(c, await abandonUpload(callerOf(c), c.var.upload)),
  );
