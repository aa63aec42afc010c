/**
 * Where the Mini Program asks for upload permission. `npm run dev` serves the signer here (tick "do not verify
 * domain names" in DevTools for local work). In production: your ICP-filed HTTPS domain, in the `request` whitelist.
 */
export const SIGNER_URL = "http://127.0.0.1:8787";

/** How many uploads run at once. */
export const MAX_PARALLEL_UPLOADS = 3;

/** How long an upload waits out a network that makes no progress before it shows Retry (a 30 s outage passes). */
export const GIVE_UP_AFTER_MS = 120_000;
