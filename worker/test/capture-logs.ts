/**
 * Every test file of the workers project: capture all console output of the Worker code and, after the file, check
 * that no line holds a secret (SecretKey, AppSecret, session secret, WeChat session_key).
 */
import { env } from "cloudflare:workers";
import type { SignerEnv } from "../src/config/index.js";
import { captureConsole } from "./console-capture.js";

const bindings = env as SignerEnv;

/** What the Worker logged so far in this file. */
export const capturedLogs = captureConsole(() =>
  [bindings.COS_SECRET_KEY, bindings.WX_APPSECRET, bindings.SESSION_SECRET].filter((secret): secret is string => typeof secret === "string"),
);
