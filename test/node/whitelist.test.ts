/** `npm run whitelist` on a mixed configuration: two path-style profiles in one region, one bucket domain elsewhere. */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, runTool } from "./harness";

let dir: Awaited<ReturnType<typeof fixtures>>;

beforeAll(async () => {
  dir = await fixtures("whitelist");
  await dir.write(
    "wrangler.toml",
    `name = "signer"
main = "index.js"
compatibility_date = "2026-10-01"
routes = [{ pattern = "sign.example.com", custom_domain = true }]

[vars]
COS_REGION = "ap-guangzhou"

[vars.UPLOAD_PROFILES.avatar]
bucket = "avatars-1250000000"
methods = ["post"]

[vars.UPLOAD_PROFILES.photo]
bucket = "photos-1250000000"

[vars.UPLOAD_PROFILES.video]
bucket = "videos-1250000001"
region = "ap-shanghai"
pathStyle = false
credentials = "partner"
`,
  );
  await dir.write("broken.toml", `name = "signer"\ncompatibility_date = "2026-10-01"\n\n[vars.UPLOAD_PROFILES.photo]\nregion = "ap-guangzhou"\n`);
});

afterAll(() => dir?.dispose());

function whitelist(config: string, ...more: string[]) {
  return runTool("scripts/whitelist.ts", ["--config", join(dir.dir, config), ...more], { cwd: dir.dir });
}

describe("npm run whitelist", () => {
  it("lists the signer, one regional domain for the region's path-style profiles and the other bucket's own domain", async () => {
    const { code, stdout } = await whitelist("wrangler.toml");
    expect(code).toBe(0);
    const [request, uploadFile] = stdout.split("uploadFile (wx.uploadFile):") as [string, string];
    const domains = (text: string) => [...text.matchAll(/^ {2}(https?:\/\/\S+)/gm)].map((m) => m[1]);
    expect(domains(request)).toEqual(["https://sign.example.com", "https://cos.ap-guangzhou.myqcloud.com", "https://videos-1250000001.cos.ap-shanghai.myqcloud.com"]);
    expect(domains(uploadFile.split("Warnings:")[0]!)).toEqual(["https://cos.ap-guangzhou.myqcloud.com", "https://videos-1250000001.cos.ap-shanghai.myqcloud.com"]);
    expect(request).toMatch(/cos\.ap-guangzhou\.myqcloud\.com\s+profile photo \(PUT uploads\)/);
    expect(uploadFile).toMatch(/cos\.ap-guangzhou\.myqcloud\.com\s+profiles avatar, photo \(POST uploads\)/);
    expect(stdout).toContain("! profiles avatar, photo use the regional domain (path-style): buckets created after 2024-01-01 refuse it");
    expect(stdout).not.toMatch(/video[^\n]*path-style/);
  }, 30_000);

  it("prints the signer's domain given with --signer (SCF, EdgeOne, Node) instead of the Worker's routes", async () => {
    const { code, stdout } = await whitelist("wrangler.toml", "--signer", "sign.example.cn");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}https:\/\/sign\.example\.cn\s+the signer$/m);
    expect(stdout).not.toContain("https://sign.example.com");
  }, 30_000);

  it("names the profile and field of a configuration mistake", async () => {
    const { code, stderr } = await whitelist("broken.toml");
    expect(code).toBe(1);
    expect(stderr).toContain("UPLOAD_PROFILES.photo.bucket is not set");
  }, 30_000);
});
