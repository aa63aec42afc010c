/** The Worker entry point: `wrangler dev` / `wrangler deploy` serve this. */
import { createApp } from "./app.js";
import type { SignerEnv } from "./config/index.js";
import { durableLedger } from "./ledger/durable-object.js";
import { cloudflareClientAddress } from "./http/client-address.js";
import { signerConfig } from "./config/index.js";
import { durableDesk } from "./moderation/durable-object.js";

export { UserLedgerObject } from "./ledger/durable-object.js";
export { ModerationDeskObject } from "./moderation/durable-object.js";

// On Workers the caller's address is the one Cloudflare's edge puts in CF-Connecting-IP; the ledger is the LEDGER
// Durable Object namespace.
export default createApp({
  clientAddress: cloudflareClientAddress,
  ledger: (env: SignerEnv) => (env.LEDGER ? durableLedger(env.LEDGER) : undefined),
  moderation: (env: SignerEnv) => (env.MODERATION ? durableDesk(env.MODERATION, () => signerConfig(env)) : undefined),
});
