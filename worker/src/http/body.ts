/** Request bodies: their size, checked before they are read, and JSON, read once. */
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { SignerError } from "./errors.js";
import type { AppEnv } from "./context.js";

/** The JSON body; 415 unsupported_media_type without Content-Type: application/json, 400 body_invalid if not JSON. */
export async function readJson<E extends AppEnv>(c: Context<E>): Promise<unknown> {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header("Content-Type") ?? "")) {
    throw new SignerError("unsupported_media_type", "send the body as JSON with Content-Type: application/json");
  }
  try {
    return await c.req.json();
  } catch {
    throw new SignerError("body_invalid", "the body is not valid JSON");
  }
}

/** Refuses a body over `maxSize` bytes with 413 body_too_large. */
export const bodyUpTo = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new SignerError("body_too_large", `the request body is over ${maxSize} bytes`);
    },
  });

/** Every JSON request but a batch of part signatures fits in 4 KB. */
export const smallBody = bodyUpTo(4096);
/** 100 part numbers with their Content-MD5s and the token fit in 16 KB. */
export const partsBody = bodyUpTo(16384);
