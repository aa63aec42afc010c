/**
 * The upload page: choose photos and videos, upload at most MAX_PARALLEL_UPLOADS at a time with a progress bar
 * each, show the COS URL when done, or the error and a Retry button. Written as a Component (WeChat allows pages to
 * be), so tests can render it with miniprogram-simulate.
 */
import { GIVE_UP_AFTER_MS, MAX_PARALLEL_UPLOADS, SIGNER_URL } from "../../config";
import { adviceFor } from "../../cos-upload/advice";
import { createUploader, UploadError, type UploadTask } from "../../cos-upload/index";

type Status = "waiting" | "uploading" | "done" | "failed" | "rejected";

/** What GET /v1/profiles tells about a kind of upload. */
interface Profile {
  name: string;
  label: string;
  extensions: string[];
  contentTypes: string[];
  maxBytes: number;
  methods: ("put" | "post")[];
}

interface Item {
  id: string;
  name: string;
  profile: string;
  method: "put" | "post";
  filePath: string;
  thumb: string;
  size: number;
  sizeText: string;
  status: Status;
  statusText: string;
  percent: number;
  url: string;
  error: string;
}

/** A multipart upload that did not finish (the app was closed or the network went away), offered to resume. */
interface PendingRow {
  filePath: string;
  name: string;
  sizeText: string;
}

interface PageView {
  data: { items: Item[]; profiles: Profile[]; selected: number; notice: string; pending: PendingRow[] };
  setData(patch: Record<string, unknown>): void;
}

const STATUS_TEXT: Record<Status, string> = { waiting: "Waiting", uploading: "Uploading", done: "Uploaded", failed: "Failed", rejected: "Not uploaded" };

/** Until the signer lists its profiles: its default one, with no local checks. */
const FALLBACK: Profile = { name: "default", label: "Default", extensions: [], contentTypes: [], maxBytes: Number.MAX_SAFE_INTEGER, methods: ["post", "put"] };

const uploader = createUploader({ signerUrl: SIGNER_URL, wx, giveUpAfterMs: GIVE_UP_AFTER_MS });
const running = new Map<string, UploadTask>();
let nextId = 1;

function label(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Which of chooseMedia's kinds the profile's types or suffixes allow. */
function mediaTypes(profile: Profile): ("image" | "video")[] {
  const families = profile.contentTypes.map((rule) => rule.split("/")[0]);
  const kinds = (["image", "video"] as const).filter((kind) => families.includes(kind));
  return families.length === 0 || kinds.length === 0 ? ["image", "video"] : [...kinds];
}

/** Why this file cannot go with this profile — said before asking the signer — or "" when it can. */
function localRefusal(profile: Profile, file: WechatMiniprogram.MediaFile): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(file.tempFilePath)?.[1]?.toLowerCase() ?? "";
  if (profile.extensions.length > 0 && !profile.extensions.includes(ext)) {
    return `${profile.label} takes ${profile.extensions.join(", ")} files, not ${ext || "files without a suffix"}.`;
  }
  if (file.size > profile.maxBytes) return `Too large: ${sizeText(file.size)}; ${profile.label} takes at most ${sizeText(profile.maxBytes)}.`;
  const families = profile.contentTypes.map((rule) => rule.split("/")[0]);
  if (families.length > 0 && !families.includes(file.fileType)) return `${profile.label} takes no ${file.fileType}s.`;
  return "";
}

function sizeText(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function update(page: PageView, id: string, patch: Partial<Item>): void {
  const index = page.data.items.findIndex((item) => item.id === id);
  if (index < 0) return;
  const item = { ...page.data.items[index]!, ...patch };
  page.setData({ [`items[${index}]`]: { ...item, statusText: item.status === "uploading" ? `${item.percent}%` : STATUS_TEXT[item.status] } });
}

function fileName(filePath: string): string {
  return filePath.split("/").pop() ?? filePath;
}

function pendingRows(): PendingRow[] {
  return uploader.pendingUploads().map((pending) => ({
    filePath: pending.filePath,
    name: fileName(pending.filePath),
    sizeText: `${sizeText(pending.size)} · ${pending.partCount} parts`,
  }));
}

function describeError(error: unknown): string {
  if (error instanceof UploadError) return adviceFor(error) === error.message ? error.message : `${error.message} — ${adviceFor(error)}`;
  return "Upload failed.";
}

function start(page: PageView, item: Item): void {
  update(page, item.id, { status: "uploading", percent: 0, error: "" });
  const task = uploader.upload({
    filePath: item.filePath,
    size: item.size,
    profile: item.profile,
    method: item.method,
    onProgress: ({ percent }) => update(page, item.id, { percent }),
  });
  running.set(item.id, task);
  task.then(
    (result) => update(page, item.id, { status: "done", percent: 100, url: result.url }),
    (error: unknown) => {
      if (!(error instanceof UploadError && error.code === "aborted")) update(page, item.id, { status: "failed", error: describeError(error) });
    },
  ).finally(() => {
    running.delete(item.id);
    pump(page);
  });
}

/** Starts waiting uploads while fewer than MAX_PARALLEL_UPLOADS run. */
function pump(page: PageView): void {
  for (const item of page.data.items) {
    if (running.size >= MAX_PARALLEL_UPLOADS) return;
    if (item.status === "waiting" && !running.has(item.id)) start(page, item);
  }
}

Component({
  data: { items: [] as Item[], profiles: [FALLBACK], selected: 0, notice: "", pending: [] as PendingRow[] },
  lifetimes: {
    attached() {
      this.setData({ pending: pendingRows() });
      wx.request({
        url: `${SIGNER_URL}/v1/profiles`,
        method: "GET",
        timeout: 15000,
        success: ({ statusCode, data }) => {
          const listed = (data as { profiles?: Omit<Profile, "label">[] } | undefined)?.profiles;
          if (statusCode !== 200 || !listed?.length) return this.setData({ notice: `The signer did not list its upload kinds (HTTP ${statusCode}).` });
          this.setData({ profiles: listed.map((profile) => ({ ...profile, label: label(profile.name) })), selected: 0 });
        },
        fail: ({ errMsg }) => this.setData({ notice: `The signer is unreachable: ${errMsg}` }),
      });
    },
  },
  methods: {
    onUnload() {
      for (const task of running.values()) task.abort();
      running.clear();
    },
    select(event: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { index: number }>) {
      this.setData({ selected: Number(event.currentTarget.dataset.index) });
    },
    choose() {
      const profile = this.data.profiles[this.data.selected] ?? FALLBACK;
      wx.chooseMedia({
        count: 9,
        mediaType: mediaTypes(profile),
        sourceType: ["album", "camera"],
        sizeType: ["original"],
        success: ({ tempFiles }) => {
          const added: Item[] = tempFiles.map((file) => {
            const refusal = localRefusal(profile, file);
            const status: Status = refusal ? "rejected" : "waiting";
            return {
              id: String(nextId++),
              name: fileName(file.tempFilePath),
              profile: profile.name,
              method: profile.methods.includes("post") ? "post" : "put",
              filePath: file.tempFilePath,
              thumb: file.fileType === "video" ? (file.thumbTempFilePath ?? "") : file.tempFilePath,
              size: file.size,
              sizeText: `${sizeText(file.size)} · ${profile.label}`,
              status,
              statusText: STATUS_TEXT[status],
              percent: 0,
              url: "",
              error: refusal,
            };
          });
          this.setData({ items: [...this.data.items, ...added] });
          pump(this);
        },
      });
    },
    /** Goes on with an interrupted upload: only the parts COS does not hold yet are sent. */
    resume(event: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { path: string }>) {
      const pending = uploader.pendingUploads().find((candidate) => candidate.filePath === event.currentTarget.dataset.path);
      if (!pending) return this.setData({ pending: pendingRows() });
      const item: Item = {
        id: String(nextId++),
        name: fileName(pending.filePath),
        profile: "",
        method: "put",
        filePath: pending.filePath,
        thumb: "",
        size: pending.size,
        sizeText: sizeText(pending.size),
        status: "waiting",
        statusText: STATUS_TEXT.waiting,
        percent: 0,
        url: "",
        error: "",
      };
      this.setData({ items: [...this.data.items, item], pending: this.data.pending.filter((row) => row.filePath !== pending.filePath) });
      pump(this);
    },
    /** Gives an interrupted upload up: its parts are deleted on COS. */
    cancelPending(event: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { path: string }>) {
      const pending = uploader.pendingUploads().find((candidate) => candidate.filePath === event.currentTarget.dataset.path);
      if (pending) uploader.cancel(pending);
      this.setData({ pending: pendingRows() });
    },
    retry(event: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      update(this, event.currentTarget.dataset.id, { status: "waiting", percent: 0, error: "" });
      pump(this);
    },
    copy(event: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
      const item = this.data.items.find((candidate) => candidate.id === event.currentTarget.dataset.id);
      if (item) wx.setClipboardData({ data: item.url });
    },
  },
});
