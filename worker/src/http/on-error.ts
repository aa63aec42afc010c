/**
 * Every failure becomes `{ error: { code, message } }` here, with its one log line: no secrets, no tokens, no keys;
 * the user only as the first characters of its segment; a client's own request id apart from ours.
 */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import type { HonoBase } from "hono/hono-base";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./context.js";
import { type ErrorCode, SignerError } from "./errors.js";
import { respond, requestIdOf } from "./respond.js";

/** A client's own request id, kept apart from ours in the log line: letters, digits, `-`, `_`, `.`; at most 64. */
const CLIENT_REQUEST_ID = /^[\w.-]{1,64}$/;

/**
 * The statuses Hono's own parts raise as an `HTTPException` (body-limit's 413, a router's 404/405, an auth
 * middleware's 401, a parser's 415), answered with the code docs/api.md gives that status; any other status below
 * 500 stays `bad_request`.
 */
const HTTP_EXCEPTION_CODES: Readonly<Partial<Record<number, { readonly code: ErrorCode; readonly message: string }>>> = {
  401: { code: "unauthorized", message: "authorization required" },
  404: { code: "not_found", message: "not found" },
  405: { code: "method_not_allowed", message: "method not allowed" },
  413: { code: "body_too_large", message: "the request body is too large" },
  415: { code: "unsupported_media_type", message: "unsupported media type" },
};

/** Refusals that are a client's normal next step, not a mistake: logged at info, not as warnings. */
const EXPECTED_REFUSALS = new Set(["multipart_required"]);

interface Failure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** What went wrong below the signer's error (a fetch's TypeError or TimeoutError): its name goes to the log. */
  readonly cause?: unknown;
  /** A bug: its name and message go to the log, the client gets only the code. */
  readonly bug?: Error;
}

function fail(c: Context<AppEnv>, { status, code, message, headers, cause, bug }: Failure): Response {
  const clientRequestId = c.req.header("X-Request-Id");
  const user = c.get("user");
  const line = JSON.stringify({
    level: status >= 500 ? "error" : EXPECTED_REFUSALS.has(code) ? "info" : "warn",
    requestId: requestIdOf(c),
    method: c.req.method,
    path: c.req.path.slice(0, 100),
    status,
    code,
    ...(clientRequestId !== undefined && CLIENT_REQUEST_ID.test(clientRequestId) ? { clientRequestId } : {}),
    ...(user ? { user: user.slice(0, 6) } : {}),
    ...(status >= 500 ? { message: bug?.message ?? message } : {}),
    ...(bug ? { error: bug.name } : {}),
    ...(cause instanceof Error ? { cause: cause.name } : {}),
  });
  if (status >= 500) console.error(line);
  else if (EXPECTED_REFUSALS.has(code)) console.log(line);
  else console.warn(line);
  return respond(c, { error: { code, message: bug ? "the signer failed; see the Worker logs" : message } }, status, headers);
}

/** The answer of a SignerError: the status its code has in ERROR_STATUS. */
export function errorResponse(c: Context<AppEnv>, error: SignerError): Response {
  return fail(c, { status: error.status, code: error.code, message: error.message, headers: error.headers, cause: error.cause });
}

export const onError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof SignerError) return errorResponse(c, error);
  if (error instanceof HTTPException && error.status < 500) {
    const known = HTTP_EXCEPTION_CODES[error.status];
    const allow = error.getResponse().headers.get("Allow");
    return fail(c, { status: error.status, code: known?.code ?? "bad_request", message: error.message || (known?.message ?? "bad request"), headers: allow ? { Allow: allow } : undefined });
  }
  return fail(c, { status: 500, code: "internal_error", message: "the signer failed; see the Worker logs", bug: error });
};

/**
 * 404 not_found, or 405 method_not_allowed with `Allow` for a path that exists. Every route is a fixed path, so the
 * methods it takes are those registered for exactly this path: an exact look-up, no second router.
 */
export function notFoundOrNotAllowed(app: HonoBase<AppEnv>): NotFoundHandler<AppEnv> {
  return (c) => {
    const methods = [...new Set(app.routes.filter((route) => route.path === c.req.path && route.method !== "ALL").map((route) => route.method))];
    if (methods.length === 0) return errorResponse(c, new SignerError("not_found", `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`));
    if (methods.includes("GET")) methods.push("HEAD");
    return errorResponse(c, new SignerError("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; use ${methods.join(", ")}`, { Allow: methods.join(", ") }));
  };
}
