/**
 * The seed's routes, in the shapes Tencent's Mini Program practice reads (436/30934): `GET /put-sign` and
 * `GET /post-policy`. They answer only where SEED_ROUTES (or its default, AUTH_MODE=none) lets them.
 */
import { authenticated, limitedPerCaller, servedWhen } from "../http/caller.js";
import { callerOf, configOf, surface } from "../http/context.js";
import { respond } from "../http/respond.js";
import { seedPost, seedPut } from "../uploads/permissions.js";

const seedRoutesOn = servedWhen(
  (config) => config.seedRoutes,
  "seed_routes_off",
  (path) => `${path} is off: its signature binds only the key (no size, type or overwrite rule); use POST /v1/uploads, or set SEED_ROUTES=true to accept that`,
);

export const seedRoutes = surface()
  .get("/put-sign", seedRoutesOn, authenticated, limitedPerCaller("SIGN_LIMITER"), async (c) =>
    respond(c, await seedPut(callerOf(c), configOf(c), { ext: c.req.query("ext"), profile: c.req.query("profile") }, new Date())),
  )
  .get("/post-policy", seedRoutesOn, authenticated, limitedPerCaller("SIGN_LIMITER"), async (c) =>
    respond(c, await seedPost(callerOf(c), configOf(c), { ext: c.req.query("ext"), profile: c.req.query("profile") }, new Date())),
  );
