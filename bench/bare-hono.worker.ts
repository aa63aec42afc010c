// Reference for `npm run bench`: Hono with one JSON route and nothing else, to show what the framework itself costs
// per request on top of the empty Worker.
import { Hono } from "hono";

const app = new Hono();
app.get("*", (c) => c.json({ status: "ok" }));

export default app;
