/** The Worker entry point: `wrangler dev` / `wrangler deploy` serve this. */
import { createApp } from "./app.js";
import { cloudflareClientAddress } from "./limits.js";

// On Workers the caller's address is the one Cloudflare's edge puts in CF-Connecting-IP.
export default createApp({ clientAddress: cloudflareClientAddress });
