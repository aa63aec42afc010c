/**
 * The moderation settings beside the profiles': the message push's Token and EncodingAESKey (WX_PUSH_TOKEN,
 * WX_PUSH_AES_KEY) and where COS calls back (MODERATION_CALLBACK_URL), checked against what the profiles need.
 */
import type { AuthConfig, UploadProfile } from "../config/index.js";
import { ConfigError } from "../http/errors.js";
import { ENCODING_AES_KEY } from "../wechat/push-crypto.js";

export interface ModerationSettings {
  /** The push receiver's Token; undefined: the receiver answers 404. */
  readonly pushToken: string | undefined;
  /** The EncodingAESKey: pushes in safe mode only; undefined: plain mode. */
  readonly pushAesKey: string | undefined;
  /** This signer's COS callback URL, for COS moderation jobs. */
  readonly callbackUrl: string | undefined;
}

const label = (profile: UploadProfile) => (profile.name === "default" ? "UPLOAD_MODERATION" : `UPLOAD_PROFILES.${profile.name}.moderation`);

export function parseModeration(profiles: Iterable<UploadProfile>, auth: AuthConfig, settings: ModerationSettings): ModerationSettings {
  if (settings.pushToken !== undefined && !/^[A-Za-z0-9]{3,32}$/.test(settings.pushToken)) throw new ConfigError("WX_PUSH_TOKEN", "must be the push Token of the WeChat console: 3–32 letters and digits");
  if (settings.pushAesKey !== undefined && !ENCODING_AES_KEY.test(settings.pushAesKey)) throw new ConfigError("WX_PUSH_AES_KEY", "must be the EncodingAESKey of the WeChat console: 43 letters and digits");
  const all = [...profiles];
  for (const profile of all) {
    if (profile.moderation === "off") continue;
    // An upload signature stays valid for minutes: with overwrites, it could replace bytes a check already passed.
    if (!profile.forbidOverwrite) throw new ConfigError(`UPLOAD_PROFILES.${profile.name}.forbidOverwrite`, "must stay true in a moderated profile: an overwrite would replace content moderation passed, unchecked");
    // An unmoderated profile over the same keys would sign reads (and temporary keys) of what this one holds back.
    const under = (a: string, b: string) => a === "" || b === a || b.startsWith(`${a}/`);
    const open = all.find((other) => other.moderation === "off" && other.bucket === profile.bucket && (under(other.keyPrefix, profile.keyPrefix) || under(profile.keyPrefix, other.keyPrefix)));
    if (open) throw new ConfigError(open.name === "default" ? "UPLOAD_KEY_PREFIX" : `UPLOAD_PROFILES.${open.name}.keyPrefix`, `must not share keys with "${profile.name}", which moderates uploads: give the unmoderated profile its own keyPrefix or bucket`);
    // Videos go to COS in both modes, and so does an image WeChat cannot check: the callback is always needed.
    if (settings.callbackUrl === undefined) throw new ConfigError(label(profile), "needs MODERATION_CALLBACK_URL (this signer's https://…/v1/moderation/cos-callback) for COS moderation jobs");
    if (profile.moderation === "wechat") {
      if (auth.mode !== "wechat") throw new ConfigError(label(profile), 'is "wechat", which needs the users\' openids: set AUTH_MODE=wechat, or use "cos"');
      if (settings.pushToken === undefined) throw new ConfigError(label(profile), 'is "wechat": set WX_PUSH_TOKEN (and WX_PUSH_AES_KEY) to receive the verdicts');
    }
  }
  return settings;
}
