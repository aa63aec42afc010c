// Baseline for `npm run bench`: what Tencent's direct-upload sample does on a server — an express app that signs
// GET /put-sign?ext= with node:crypto. Same key shape, same signature, same JSON as the Worker's seed route.
import { createHash, createHmac, randomBytes } from "node:crypto";
import express from "express";

const secretId = "AKIDBENCHxxxxxxxxxxxxxxxxxxxxxxxxxxx";
const secretKey = "bench-secret-key-0123456789abcdef";
const bucket = "examplebucket-1250000000";
const host = "cos.ap-guangzhou.myqcloud.com";
const allowed = new Set(["jpg", "jpeg", "png", "gif", "webp", "heic", "mp4", "mov"]);

const app = express();
app.get("/put-sign", (req, res) => {
  const ext = String(req.query.ext ?? "").toLowerCase();
  if (!allowed.has(ext)) return res.status(400).json({ error: { code: "ext_not_allowed", message: "ext not allowed" } });
  const now = new Date();
  const key = `uploads/${now.toISOString().slice(0, 10).replaceAll("-", "/")}/${randomBytes(16).toString("hex")}.${ext}`;
  const seconds = Math.floor(now.getTime() / 1000);
  const keyTime = `${seconds - 60};${seconds + 600}`;
  const signKey = createHmac("sha1", secretKey).update(keyTime).digest("hex");
  const httpString = `put\n/${bucket}/${key}\n\nhost=${host}\n`;
  const stringToSign = `sha1\n${keyTime}\n${createHash("sha1").update(httpString).digest("hex")}\n`;
  const signature = createHmac("sha1", signKey).update(stringToSign).digest("hex");
  res.json({
    cosHost: `${host}/${bucket}`,
    cosKey: key,
    authorization: `q-sign-algorithm=sha1&q-ak=${secretId}&q-sign-time=${keyTime}&q-key-time=${keyTime}&q-header-list=host&q-url-param-list=&q-signature=${signature}`,
    securityToken: "",
  });
});

const server = app.listen(Number(process.env.PORT), "127.0.0.1", () => console.log(`baseline on ${process.env.PORT}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
