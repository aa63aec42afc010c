/** Starts the COS emulator and the Worker (workerd) in Node for the page tests, which run under jsdom. */
import type { TestProject } from "vitest/node";
import { startEmulator, startSigner } from "../node/harness";

declare module "vitest" {
  export interface ProvidedContext {
    signerUrl: string;
    emulatorUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const emulator = await startEmulator();
  // The default profile (single-bucket vars) and a small, POST-only avatar profile.
  const profiles = { avatar: { bucket: "otherbucket-1250000000", keyPrefix: "avatars", extensions: ["jpg", "png"], contentTypes: ["image/*"], maxBytes: 5000, methods: ["post"] } };
  // Multipart above 4 MiB, so that the resume test needs only a 9 MiB file.
  const signer = await startSigner({ COS_ENDPOINT: emulator.url, COS_PATH_STYLE: "true", UPLOAD_PROFILES: JSON.stringify(profiles), UPLOAD_MULTIPART_THRESHOLD: String(4 * 1024 * 1024) });
  project.provide("signerUrl", signer.url);
  project.provide("emulatorUrl", emulator.url);
  return async () => {
    await signer.dispose();
    await emulator.dispose();
  };
}
