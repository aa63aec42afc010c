/** The Worker entry point: `wrangler dev` / `wrangler deploy` serve this. */
import { createApp } from "./app.js";

export default createApp();
