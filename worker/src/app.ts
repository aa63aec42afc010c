/**
 * The signer's HTTP API (Hono). Routes validate, then call the pure signing core; every error becomes
 * `{ error: { code, message } }` in `onError`.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { type SignerConfig, type SignerEnv, signerConfig } from "./config.js";
import { SignerError } from "./errors.js";
import { newObjectKey, normalizeExtension } from "./object-key.js";
import { parseUploadRequest } from "./upload-request.js";
import { postDescriptor, putDescriptor, seedPostPolicy, seedPutSign } from "./uploads.js";

export type AppEnv = { Bindings: SignerEnv; Variables: { config: SignerConfig } };

export const DUMMY_CREDENTIALS_WARNING =
  "dummy dev credentials: only the local COS emulator accepts these signatures; set COS_SECRET_ID and COS_SECRET_KEY for real COS";

let dummyWarningLogged = false;

function configOf(c: Context<AppEnv>): SignerConfig {
  const config = signerConfig(c.env);
  if (config.dummyCredentials) {
    c.header("X-Signer-Warning", DUMMY_CREDENTIALS_WARNING);
    if (!dummyWarningLogged) {
      dummyWarningLogged = true;
      console.warn(JSON.stringify({ level: "warn", message: DUMMY_CREDENTIALS_WARNING }));
    }
  }
  return config;
}

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    await next();
    // Signatures are single-use permissions: no cache may keep or share them.
    c.header("Cache-Control", "no-store");
  });

  app.get("/healthz", (c) => {
    configOf(c);
    return c.json({ status: "ok" });
  });

  app.get("/put-sign", async (c) => {
    const config = configOf(c);
    const ext = normalizeExtension(c.req.query("ext"), config.allowedExtensions);
    const now = new Date();
    return c.json(await seedPutSign(config, newObjectKey(config.keyPrefix, ext, now), now));
  });

  app.get("/post-policy", async (c) => {
    const config = configOf(c);
    const ext = normalizeExtension(c.req.query("ext"), config.allowedExtensions);
    const now = new Date();
    return c.json(await seedPostPolicy(config, newObjectKey(config.keyPrefix, ext, now), now));
  });

  app.post(
    "/v1/uploads",
    bodyLimit({
      maxSize: 4096,
      onError: () => {
        throw new SignerError(413, "body_too_large", "the request body is over 4096 bytes");
      },
    }),
    async (c) => {
      const config = configOf(c);
      if (!/^application\/json\s*(;|$)/i.test(c.req.header("Content-Type") ?? "")) {
        throw new SignerError(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json");
      }
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        throw new SignerError(400, "body_invalid", "the body is not valid JSON");
      }
      const request = parseUploadRequest(body, config);
      const now = new Date();
      const terms = {
        key: newObjectKey(config.keyPrefix, request.ext, now),
        ...(request.size === undefined ? {} : { size: request.size }),
        ...(request.contentType === undefined ? {} : { contentType: request.contentType }),
      };
      return c.json(request.method === "put" ? await putDescriptor(config, terms, now) : await postDescriptor(config, terms, now));
    },
  );

  for (const [path, allowed] of [
    ["/healthz", "GET, HEAD"],
    ["/put-sign", "GET, HEAD"],
    ["/post-policy", "GET, HEAD"],
    ["/v1/uploads", "POST"],
  ] as const) {
    app.all(path, (c) => {
      throw new SignerError(405, "method_not_allowed", `${c.req.method} is not allowed on ${path}; use ${allowed}`, { Allow: allowed });
    });
  }

  app.notFound((c) => c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`), 404));

  app.onError((error, c) => {
    if (error instanceof SignerError) {
      if (error.status >= 500) console.error(JSON.stringify({ level: "error", code: error.code, message: error.message }));
      return c.json(errorBody(error.code, error.message), error.status, error.headers);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json(errorBody("bad_request", error.message || "bad request"), error.status);
    }
    console.error(JSON.stringify({ level: "error", code: "internal_error", error: error.name, message: error.message }));
    return c.json(errorBody("internal_error", "the signer failed; see the Worker logs"), 500);
  });

  return app;
}
