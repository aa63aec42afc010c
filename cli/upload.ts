/**
 * `npm run upload -- <file> [--method put|post] [--profile NAME] [--part-size MiB] [--signer URL] [--cancel]`: the first smoke
 * test. It asks the running signer for a descriptor and uploads the file with the same library the Mini Program uses
 * (through the Node `wx` adapter), then prints the object's URL. Files above the profile's threshold go multipart; one
 * interrupted (Ctrl-C, a lost network) goes on where it stopped when the same command runs again, or is aborted on
 * COS with --cancel. Exit 0 on success, 1 when COS or the signer refuses, 2 on a usage error, 130 after Ctrl-C.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { adviceFor } from "../miniprogram/cos-upload/advice";
import { createUploader, UploadError, type UploadProgress } from "../miniprogram/cos-upload/index";
import { wxNode } from "../wx-node/index";

const USAGE =
  "usage: npm run upload -- <file> [--method put|post] [--profile NAME] [--part-size MiB] [--signer URL] [--cancel]   (signer default: $COS_SIGNER_URL or http://127.0.0.1:8787; --cancel aborts the file's interrupted upload)";

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function formatBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function progressBar({ percent, sentBytes, totalBytes }: UploadProgress): string {
  const filled = Math.round(percent / 5);
  return `\r[${"#".repeat(filled)}${".".repeat(20 - filled)}] ${String(percent).padStart(3)}%  ${formatBytes(sentBytes)} / ${formatBytes(totalBytes)}`;
}

const OPTIONS = {
  method: { type: "string" },
  profile: { type: "string" },
  "part-size": { type: "string" },
  signer: { type: "string" },
  cancel: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;
let args: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
try {
  args = parseArgs({ options: OPTIONS, allowPositionals: true });
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`, 2);
}
if (args.values.help) fail(USAGE, 0);
const [file, ...extra] = args.positionals;
if (!file || extra.length > 0) fail(USAGE, 2);
// Absolute, so that a rerun from another folder still finds the interrupted upload of this file.
const filePath = resolve(file);
const partSizeMiB = args.values["part-size"];
if (partSizeMiB !== undefined && !/^[1-9]\d{0,3}$/.test(partSizeMiB)) fail(`--part-size must be a whole number of MiB from 1 to 5120\n${USAGE}`, 2);
const methodArg = args.values.method ?? "post";
if (methodArg !== "put" && methodArg !== "post") fail(`--method must be put or post\n${USAGE}`, 2);
const method: "put" | "post" = methodArg;
const signerUrl = args.values.signer ?? process.env.COS_SIGNER_URL ?? "http://127.0.0.1:8787";

const size = await stat(filePath).then(
  (info) => (info.isFile() ? info.size : fail(`${file} is not a file`, 2)),
  () => fail(`${file}: no such file`, 2),
);

// A bar on a terminal, for files large enough to take a moment.
const showProgress = process.stderr.isTTY && size > 256 * 1024;
const uploader = createUploader({ signerUrl, wx: wxNode });
const pendingOfFile = () => uploader.pendingUploads().find((pending) => pending.filePath === filePath && pending.size === size);
const interrupted = pendingOfFile();
async function upload(): Promise<void> {
  if (interrupted) process.stderr.write(`going on with the interrupted upload of ${file} (${interrupted.partCount} parts)\n`);
  process.once("SIGINT", () => {
    const pending = pendingOfFile();
    process.stderr.write(
      pending
        ? `\ninterrupted: the parts sent so far stay on COS (multipart upload of ${pending.key}, ${pending.partCount} parts; stored, and billed, until completed or cancelled).\n` +
            `  Go on where it stopped: npm run upload -- ${file}  (the same command)\n  Give it up:             npm run upload -- ${file} --cancel\n`
        : `\ninterrupted: nothing is kept on COS (a single upload is all or nothing); run the same command to start again.\n`,
    );
    process.exit(130);
  });
  try {
    const result = await uploader.upload({
      filePath,
      method,
      size,
      ...(partSizeMiB !== undefined && { partSize: Number(partSizeMiB) * 1024 * 1024 }),
      ...(args.values.profile !== undefined && { profile: args.values.profile }),
      ...(showProgress && { onProgress: (progress: UploadProgress) => process.stderr.write(progressBar(progress)) }),
    });
    if (showProgress) process.stderr.write("\n");
    process.stdout.write(`${result.url}\n`);
  } catch (error) {
    if (showProgress) process.stderr.write("\n");
    if (!(error instanceof UploadError)) throw error;
    const status = error.status === undefined ? "" : ` (HTTP ${error.status})`;
    const advice = adviceFor(error) === error.message ? "" : `\n  ${adviceFor(error)}`;
    const hint = error.code === "network_error" && error.source === "network" ? `\n  Is the signer running at ${signerUrl}? Start it with: npm run dev` : "";
    fail(`upload failed: ${error.code}${status} from ${error.source}: ${error.message}${advice}${hint}`, 1);
  }
}

if (args.values.cancel) {
  if (!interrupted) fail(`no interrupted upload of ${file} to cancel`, 1);
  // Forgotten here at once; the abort request keeps the process alive until the signer has answered it.
  uploader.cancel(interrupted);
  process.stderr.write(`cancelled the interrupted upload of ${file}: its parts are deleted on COS\n`);
} else {
  await upload();
}
