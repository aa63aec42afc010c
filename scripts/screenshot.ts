/**
 * `npm run screenshot`: redraws docs/upload-page.png — the upload page's own WXML, rendered by miniprogram-simulate
 * (the page's code, its `attached` lifetime included), styled with its own WXSS, photographed by headless Chromium at
 * phone width. Not a WeChat DevTools capture: WeChat's built-in components (button, progress, image) get plain CSS
 * stand-ins below. The rows show one of each state; the profiles and the interrupted upload come through the page's
 * own code (a stubbed GET /v1/profiles, a pending upload in wx storage).
 *
 * Needs Chromium: `apt-get install -y chromium` (Debian), or CHROMIUM=/path/to/chrome. Usage:
 * `npm run screenshot [-- out.png]`.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { JSDOM } from "jsdom";

const root = resolve(import.meta.dirname, "..");
const out = resolve(process.argv[2] ?? join(root, "docs/upload-page.png"));
const WIDTH = 375;
const HEIGHT = 830;

// miniprogram-simulate renders into a DOM: jsdom's, as in the page's tests.
const { window } = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
Object.assign(globalThis, { window, document: window.document, Node: window.Node, HTMLElement: window.HTMLElement, Element: window.Element });
const simulate = (await import("miniprogram-simulate")).default;

interface WxStub {
  request(options: { url: string; success(result: { statusCode: number; data: unknown }): void }): { abort(): void };
  setStorageSync(key: string, value: unknown): void;
}
const wx = (globalThis as unknown as { wx: WxStub }).wx;
// simulate's storage keeps nothing: a real one, in memory.
const storage = new Map<string, unknown>();
Object.assign(wx, {
  getStorageSync: (key: string) => storage.get(key) ?? "",
  setStorageSync: (key: string, value: unknown) => storage.set(key, value),
  removeStorageSync: (key: string) => storage.delete(key),
  getStorageInfoSync: () => ({ keys: [...storage.keys()] }),
});
const MB = 1024 * 1024;
const profile = (name: string, maxBytes: number) => ({ name, extensions: ["jpg"], contentTypes: ["image/jpeg"], maxBytes, methods: ["post", "put"] });
wx.request = ({ success }) => {
  setTimeout(() => success({ statusCode: 200, data: { profiles: [profile("avatar", 2 * MB), profile("photo", 20 * MB), profile("video", 2048 * MB)] } }), 0);
  return { abort: () => undefined };
};
// An upload the app was closed during: the library keeps it under cos-upload:<path>.
wx.setStorageSync("cos-upload:wxfile://tmp/VID_0012.mp4", {
  filePath: "wxfile://tmp/VID_0012.mp4",
  size: 212.4 * MB,
  key: "uploads/2026/12/01/4b1c0e9a7d2f48e6a1c3b5d7e9f0a2c4.mp4",
  objectUrl: "https://videos-1250000000.cos.ap-guangzhou.myqcloud.com/uploads/2026/12/01/4b1c0e9a7d2f48e6a1c3b5d7e9f0a2c4.mp4",
  token: "…",
  partSize: 5 * MB,
  partCount: 43,
});

// The page registers itself with Component(): capture the definition, as the tests do.
let definition: Record<string, unknown> = {};
Object.assign(globalThis, { Component: (options: Record<string, unknown>) => (definition = options) });
await import("../miniprogram/pages/upload/upload.js");

const template = await readFile(join(root, "miniprogram/pages/upload/upload.wxml"), "utf8");
const page = simulate.render(simulate.load({ ...definition, template, usingComponents: {} } as never));
page.attach(document.createElement("parent-wrapper"));
await simulate.sleep(10);

const row = (id: string, name: string, size: number, kind: string, status: string, statusText: string, extra: Record<string, unknown> = {}) => ({
  id,
  name,
  profile: kind.toLowerCase(),
  method: "post",
  filePath: `wxfile://tmp/${name}`,
  thumb: "",
  size,
  sizeText: `${(size / MB).toFixed(1)} MB · ${kind}`,
  status,
  statusText,
  percent: 0,
  url: "",
  error: "",
  ...extra,
});
const items = [
  row("1", "IMG_2041.jpg", 2.4 * MB, "Photo", "done", "Uploaded", {
    url: "https://photos-1250000000.cos.ap-guangzhou.myqcloud.com/uploads/2026/12/01/8c1f0c3e9a7b4d2e6f1a0b9c8d7e6f5a.jpg",
  }),
  row("2", "IMG_2042.jpg", 3.1 * MB, "Photo", "uploading", "37%", { percent: 37 }),
  row("3", "VID_0007.mp4", 48 * MB, "Photo", "waiting", "Waiting"),
  row("4", "IMG_2043.jpg", 1.2 * MB, "Photo", "failed", "Failed", { error: "uploadFile:fail timeout — The network is slow or unreachable: retry on a better connection." }),
  row("5", "panorama.jpg", 31 * MB, "Photo", "rejected", "Not uploaded", { error: "Too large: 31.0 MB; Photo takes at most 20.0 MB." }),
];
page.setData({ selected: 1, items });

// <progress> draws nothing in the simulated DOM: its bar, from the row's percent.
for (const item of items) {
  const bar = page.dom!.querySelector(`.item[data-id="${item.id}"] .bar`);
  if (bar) bar.innerHTML = `<div class="bar-fill" style="width: ${item.percent}%"></div>`;
}

/** WXSS to CSS at this width: 750rpx is the screen's width; `page` is the body. */
const css = (wxss: string) => wxss.replace(/(-?\d*\.?\d+)rpx/g, (_, n: string) => `${(Number(n) * WIDTH) / 750}px`).replace(/^page\s*\{/m, "body {");
// Plain stand-ins for WeChat's built-in components, close to their default look.
const COMPONENTS = `
  * { box-sizing: border-box; }
  body { margin: 0; }
  wx-view { display: block; }
  wx-text { display: inline; }
  wx-image { display: block; }
  wx-button { display: block; text-align: center; font-size: 18px; line-height: 2.56; border-radius: 5px; background: #f7f7f7; color: #000; }
  wx-button.retry, wx-button.resume, wx-button.cancel { display: inline-block; font-size: 13px; line-height: 2.3; padding: 0 1.34em; flex-shrink: 0; }
  wx-progress { display: block; height: 6px; border-radius: 3px; background: #e5e6eb; overflow: hidden; margin-top: 4px; }
  .bar-fill { height: 100%; background: #07c160; border-radius: 3px; }
`;
const styles = [COMPONENTS, css(await readFile(join(root, "miniprogram/app.wxss"), "utf8")), css(await readFile(join(root, "miniprogram/pages/upload/upload.wxss"), "utf8"))];
const html = `<!doctype html><html><head><meta charset="utf-8"><style>${styles.join("\n")}</style></head><body>${page.dom!.outerHTML}</body></html>`;

const dir = await mkdtemp(join(tmpdir(), "upload-page-"));
try {
  await writeFile(join(dir, "page.html"), html);
  await promisify(execFile)(process.env.CHROMIUM ?? "chromium", [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--force-device-scale-factor=2",
    `--user-data-dir=${join(dir, "profile")}`,
    `--window-size=${WIDTH},${HEIGHT}`,
    `--screenshot=${out}`,
    `file://${join(dir, "page.html")}`,
  ]);
  console.log(`wrote ${out}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
// simulate's timers and jsdom would keep the process alive.
process.exit(0);
