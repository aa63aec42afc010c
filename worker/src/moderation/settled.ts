/** The ledger's own settling, on Workers: an object it finds uploaded in a moderated profile gets its check. */
import { type SignerEnv, signerConfig, type UploadProfile } from "../config/index.js";
import type { UserLedger } from "../ledger/index.js";
import { durableDesk } from "./durable-object.js";
import { submitCheck } from "./checks.js";

export async function moderateSettled(env: SignerEnv, books: Pick<UserLedger, "moderate" | "checkOf">, profile: UploadProfile, user: string, key: string, contentType: string): Promise<void> {
  if (!env.MODERATION) return;
  const config = signerConfig(env);
  await submitCheck({ config, desk: durableDesk(env.MODERATION, () => config) }, books, profile, user, key, contentType, (await books.checkOf(key))?.sealedOpenid);
}
