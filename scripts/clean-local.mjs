#!/usr/bin/env node
// `npm run clean:local`: forgets everything local mode kept — the emulator's objects and unfinished multipart uploads
// (.cos-local/, or COS_LOCAL_DATA) and the CLI's list of interrupted uploads (COS_UPLOAD_STATE, or
// cos-edge-signer-uploads.json in the temp folder), which would point at uploads no longer there. Stop
// `npm run dev` first.
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
for (const path of [resolve(root, process.env.COS_LOCAL_DATA ?? ".cos-local"), process.env.COS_UPLOAD_STATE ?? join(tmpdir(), "cos-edge-signer-uploads.json")]) {
  rmSync(path, { recursive: true, force: true });
  console.log(`removed ${path}`);
}
