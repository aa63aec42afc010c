/** The signer's configuration: the environment and UPLOAD_PROFILES, validated (settings.ts holds the schemas). */
export * from "./config.js";
