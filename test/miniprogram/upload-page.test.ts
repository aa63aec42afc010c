/**
 * The upload page rendered by miniprogram-simulate. Its `wx` network calls are handed to the Node adapter, so
 * uploads really go to the Worker and the COS emulator; only `chooseMedia` (the user picking files) is scripted.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import simulate from "miniprogram-simulate";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import type { WxProgress, WxRequestOptions, WxUploadFileOptions } from "../../miniprogram/cos-upload/wx-like";
import { createUploader } from "../../miniprogram/cos-upload/index";
import { wxNode } from "../../wx-node/index";

// An upload here gives up after 1 s without progress (the page's default: 2 minutes), so that Retry shows quickly.
vi.mock("../../miniprogram/config", () => ({ SIGNER_URL: inject("signerUrl"), MAX_PARALLEL_UPLOADS: 3, GIVE_UP_AFTER_MS: 1000 }));

const root = resolve(import.meta.dirname, "../..");
let files: string;
/** The page's Component() options, loaded into simulate as they are. */
let definition: Record<string, unknown>;

beforeAll(async () => {
  files = await mkdtemp(join(tmpdir(), "page-files-"));
  // wx storage (pending multipart uploads) of these tests, apart from any other run's.
  process.env.COS_UPLOAD_STATE = join(files, "storage.json");
  // The page registers itself with Component(); capture the definition to load it into simulate.
  const previous = (globalThis as { Component?: unknown }).Component;
  (globalThis as { Component?: unknown }).Component = (options: typeof definition) => (definition = options);
  await import("../../miniprogram/pages/upload/upload");
  (globalThis as { Component?: unknown }).Component = previous;
});

afterAll(() => rm(files, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function renderPage() {
  const template = await readFile(join(root, "miniprogram/pages/upload/upload.wxml"), "utf8");
  const id = simulate.load({ ...definition, template, usingComponents: {} } as never);
  const page = simulate.render(id);
  page.attach(document.createElement("parent-wrapper"));
  return page;
}

type Page = Awaited<ReturnType<typeof renderPage>>;

/** What each row shows, read from the rendered DOM. */
function items(page: Page) {
  return [...page.dom!.querySelectorAll(".item")].map((item) => {
    const text = (selector: string) => item.querySelector(selector)?.textContent ?? "";
    const id = (item as HTMLElement).dataset.id;
    return {
      name: text(".name"),
      state: text(".state"),
      url: text(".url"),
      error: text(".error"),
      hasBar: item.querySelector(".bar") !== null,
      // The tappable wrapper of this row's Retry button, if it has one.
      retry: page.querySelectorAll(".retry").find((button) => (button.dom as HTMLElement).dataset.id === id),
    };
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await simulate.sleep(20);
  }
}

/** Renders the page and waits for it to list the signer's profiles. */
async function renderLoaded() {
  const page = await renderPage();
  await until(() => page.dom!.querySelectorAll(".profile").length === 2, "the profiles to load");
  return page;
}

async function pickable(name: string, size: number) {
  const bytes = randomBytes(size);
  const tempFilePath = join(files, name);
  await writeFile(tempFilePath, bytes);
  return { bytes, file: { tempFilePath, size, fileType: "image" as const, duration: 0, height: 100, width: 100, thumbTempFilePath: "" } };
}

/** The user picks these files. */
function picks(tempFiles: Awaited<ReturnType<typeof pickable>>["file"][]) {
  vi.spyOn(wx, "chooseMedia").mockImplementation(((options: { success: (result: unknown) => void }) => {
    options.success({ tempFiles, type: "image", errMsg: "chooseMedia:ok" });
  }) as never);
}

/** wx network calls go out for real, through the Node adapter. */
function realNetwork(
  options: { offline?: () => boolean; onUploadStart?: () => void; onUploadEnd?: () => void; onProgress?: (p: WxProgress) => void; onRequest?: (url: string) => void } = {},
) {
  vi.spyOn(wx, "request").mockImplementation(((call: WxRequestOptions) => {
    options.onRequest?.(call.url);
    return wxNode.request(call);
  }) as never);
  vi.spyOn(wx, "getFileSystemManager").mockImplementation(wxNode.getFileSystemManager as never);
  for (const name of ["getStorageSync", "setStorageSync", "removeStorageSync", "getStorageInfoSync"] as const) vi.spyOn(wx, name).mockImplementation(wxNode[name] as never);
  vi.spyOn(wx, "uploadFile").mockImplementation(((call: WxUploadFileOptions) => {
    if (options.offline?.()) {
      setTimeout(() => call.fail({ errMsg: "uploadFile:fail offline" }), 0);
      return { abort() {}, onProgressUpdate() {} };
    }
    options.onUploadStart?.();
    const task = wxNode.uploadFile({
      ...call,
      success: (result) => {
        options.onUploadEnd?.();
        call.success(result);
      },
      fail: (error) => {
        options.onUploadEnd?.();
        call.fail(error);
      },
    });
    return {
      abort: () => task.abort(),
      onProgressUpdate: (listener: (p: WxProgress) => void) =>
        task.onProgressUpdate((p) => {
          listener(p);
          options.onProgress?.(p);
        }),
    };
  }) as never);
}

describe("upload page", () => {
  it("starts empty", async () => {
    const page = await renderPage();
    expect(items(page)).toHaveLength(0);
    expect(page.querySelector(".empty")?.dom?.textContent).toBe("Nothing uploaded yet.");
  });

  it("uploads the chosen files, at most 3 at a time, shows progress, then each COS URL", async () => {
    const chosen = await Promise.all([pickable("a.jpg", 3 * 1024 * 1024), pickable("b.png", 1000), pickable("c.jpg", 2048), pickable("d.jpg", 1)]);
    picks(chosen.map((c) => c.file));
    let inFlight = 0;
    let maxInFlight = 0;
    const statesSeen = new Set<string>();
    let page: Page;
    realNetwork({
      onUploadStart: () => (maxInFlight = Math.max(maxInFlight, ++inFlight)),
      onUploadEnd: () => inFlight--,
      // What the user sees on the first (large) file while its bytes go out.
      onProgress: () => statesSeen.add(items(page)[0]!.state),
    });
    page = await renderLoaded();

    page.querySelector(".choose")!.dispatchEvent("tap");
    await simulate.sleep(0);
    expect(items(page).map((item) => item.name)).toEqual(["a.jpg", "b.png", "c.jpg", "d.jpg"]);
    expect(items(page).every((item) => item.hasBar)).toBe(true);

    await until(() => items(page).every((item) => item.state === "Uploaded"), "all uploads to finish");
    expect(maxInFlight).toBe(3);
    expect([...statesSeen].some((state) => /^([1-9]|[1-9]\d)%$/.test(state))).toBe(true);
    const shown = items(page);
    expect(shown.every((item) => !item.hasBar && item.error === "")).toBe(true);
    for (const [index, item] of shown.entries()) {
      expect(item.url).toMatch(new RegExp(`^${inject("emulatorUrl")}/examplebucket-1250000000/uploads/\\d{4}/\\d{2}/\\d{2}/[0-9a-f]{32}\\.(jpg|png)$`));
      const stored = Buffer.from(await (await fetch(item.url)).arrayBuffer());
      expect(stored.equals(chosen[index]!.bytes)).toBe(true);
    }
  }, 30_000);

  it("shows the failure with a Retry button, and Retry uploads it", async () => {
    const chosen = await pickable("offline.jpg", 5000);
    picks([chosen.file]);
    let offline = true;
    realNetwork({ offline: () => offline });
    const page = await renderLoaded();

    page.querySelector(".choose")!.dispatchEvent("tap");
    await until(() => items(page)[0]?.state === "Failed", "the upload to fail");
    const failed = items(page)[0]!;
    expect(failed.error).toContain("uploadFile:fail offline");
    expect(failed.error).toContain("check the connection");
    expect(failed.retry).toBeDefined();
    expect(failed.url).toBe("");

    offline = false;
    failed.retry!.dispatchEvent("tap");
    await until(() => items(page)[0]?.state === "Uploaded", "the retried upload to finish");
    const done = items(page)[0]!;
    expect(done.retry).toBeUndefined();
    expect(Buffer.from(await (await fetch(done.url)).arrayBuffer()).equals(chosen.bytes)).toBe(true);
  }, 30_000);

  it("offers the signer's profiles, filters the picker by the chosen one, and refuses unfit files before asking", async () => {
    const signed: string[] = [];
    realNetwork({ onRequest: (url) => signed.push(url) });
    const page = await renderLoaded();
    expect([...page.dom!.querySelectorAll(".profile")].map((p) => p.textContent)).toEqual(["Default", "Avatar"]);
    page.querySelectorAll(".profile")[1]!.dispatchEvent("tap");
    await simulate.sleep(0);
    expect(page.dom!.querySelector(".profile--selected")?.textContent).toBe("Avatar");

    const [big, gif, fits] = await Promise.all([pickable("big.jpg", 6000), pickable("anim.gif", 100), pickable("fits.png", 100)]);
    const chooser = vi.spyOn(wx, "chooseMedia").mockImplementation(((options: { success: (result: unknown) => void }) => {
      options.success({ tempFiles: [big.file, gif.file, fits.file], type: "image", errMsg: "chooseMedia:ok" });
    }) as never);
    page.querySelector(".choose")!.dispatchEvent("tap");
    await simulate.sleep(0);
    expect((chooser.mock.calls[0]![0] as { mediaType: string[] }).mediaType).toEqual(["image"]);

    await until(() => items(page)[2]?.state === "Uploaded", "the fitting file to upload");
    const [tooBig, wrongSuffix, uploaded] = items(page);
    expect(tooBig).toMatchObject({ state: "Not uploaded", hasBar: false, url: "" });
    expect(tooBig!.error).toBe("Too large: 6 KB; Avatar takes at most 5 KB.");
    expect(tooBig!.retry).toBeUndefined();
    expect(wrongSuffix!.error).toBe("Avatar takes jpg, png files, not gif.");
    expect(uploaded!.url).toMatch(/\/otherbucket-1250000000\/avatars\/\d{4}\/\d{2}\/\d{2}\/[0-9a-f]{32}\.png$/);
    // Only the fitting file was ever sent to the signer.
    expect(signed.filter((url) => url.endsWith("/v1/uploads"))).toHaveLength(1);
  }, 30_000);

  describe("interrupted multipart uploads", () => {
    /** Starts a multipart upload of a 9 MiB file in 5 MiB parts and cuts the network after one part. */
    async function interrupted(name: string) {
      const { bytes, file } = await pickable(name, 9 * 1024 * 1024);
      let parts = 0;
      const flaky = {
        ...wxNode,
        request(call: WxRequestOptions) {
          if (call.url.includes("partNumber=") && ++parts > 1) {
            setTimeout(() => call.fail({ errMsg: "request:fail the app went to the background" }), 0);
            return { abort() {} };
          }
          return wxNode.request(call);
        },
      };
      await expect(createUploader({ signerUrl: inject("signerUrl"), wx: flaky, maxAttempts: 1, concurrency: 1 }).upload({ filePath: file.tempFilePath, size: file.size, method: "put", partSize: 5 * 1024 * 1024 })).rejects.toThrow();
      return { bytes, file };
    }

    const pendingNames = (page: Page) => [...page.dom!.querySelectorAll(".pending-name")].map((row) => row.textContent);

    it("are listed on open with Resume, which sends only the missing part and shows the URL", async () => {
      process.env.COS_UPLOAD_STATE = join(files, "resume.json");
      const { bytes } = await interrupted("resumed.mp4");
      const partPuts: string[] = [];
      realNetwork({ onRequest: (url) => url.includes("partNumber=") && partPuts.push(url) });
      const page = await renderLoaded();
      expect(pendingNames(page)).toEqual(["resumed.mp4"]);
      page.querySelector(".resume")!.dispatchEvent("tap");
      await simulate.sleep(0);
      expect(pendingNames(page)).toEqual([]);
      await until(() => items(page)[0]?.state === "Uploaded", "the resumed upload to finish");
      expect(partPuts).toHaveLength(1);
      const url = items(page)[0]!.url;
      expect(Buffer.from(await (await fetch(url)).arrayBuffer()).equals(bytes)).toBe(true);
    }, 30_000);

    it("Cancel gives one up: it leaves the list and is not offered again", async () => {
      process.env.COS_UPLOAD_STATE = join(files, "cancel.json");
      await interrupted("cancelled.mp4");
      const aborts: string[] = [];
      realNetwork({ onRequest: (url) => url.endsWith("/v1/multipart/abort") && aborts.push(url) });
      const page = await renderLoaded();
      expect(pendingNames(page)).toEqual(["cancelled.mp4"]);
      page.querySelector(".cancel")!.dispatchEvent("tap");
      await simulate.sleep(0);
      expect(pendingNames(page)).toEqual([]);
      await until(() => aborts.length === 1, "the abort to reach the signer");
      expect(pendingNames(await renderLoaded())).toEqual([]);
    }, 30_000);
  });
});
