/**
 * The upload page: choose photos and videos, upload at most MAX_PARALLEL_UPLOADS at a time with a progress bar
 * each, show the COS URL when done, or the error and a Retry button. Written as a Component (WeChat allows pages to
 * be), so tests can render it with miniprogram-simulate.
 */
import { MAX_PARALLEL_UPLOADS, SIGNER_URL } from "../../config";
import { createUploader, UploadError, type UploadTask } from "../../cos-upload/index";

type Status = "waiting" | "uploading" | "done" | "failed";

interface Item {
  id: string;
  name: string;
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

interface PageView {
  data: { items: Item[] };
  setData(patch: Record<string, unknown>): void;
}

const STATUS_TEXT: Record<Status, string> = { waiting: "Waiting", uploading: "Uploading", done: "Uploaded", failed: "Failed" };

const uploader = createUploader({ signerUrl: SIGNER_URL, wx });
const running = new Map<string, UploadTask>();
let nextId = 1;

function sizeText(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function update(page: PageView, id: string, patch: Partial<Item>): void {
  const index = page.data.items.findIndex((item) => item.id === id);
  if (index < 0) return;
  const item = { ...page.data.items[index]!, ...patch };
  page.setData({ [`items[${index}]`]: { ...item, statusText: item.status === "uploading" ? `${item.percent}%` : STATUS_TEXT[item.status] } });
}

function describeError(error: unknown): string {
  if (error instanceof UploadError) return error.advice === error.message ? error.message : `${error.message} — ${error.advice}`;
  return "Upload failed.";
}

function start(page: PageView, item: Item): void {
  update(page, item.id, { status: "uploading", percent: 0, error: "" });
  const task = uploader.upload({
    filePath: item.filePath,
    size: item.size,
    method: "post",
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
  data: { items: [] as Item[] },
  methods: {
    onUnload() {
      for (const task of running.values()) task.abort();
      running.clear();
    },
    choose() {
      wx.chooseMedia({
        count: 9,
        mediaType: ["image", "video"],
        sourceType: ["album", "camera"],
        sizeType: ["original"],
        success: ({ tempFiles }) => {
          const added: Item[] = tempFiles.map((file) => ({
            id: String(nextId++),
            name: file.tempFilePath.split("/").pop() ?? file.tempFilePath,
            filePath: file.tempFilePath,
            thumb: file.fileType === "video" ? (file.thumbTempFilePath ?? "") : file.tempFilePath,
            size: file.size,
            sizeText: sizeText(file.size),
            status: "waiting",
            statusText: STATUS_TEXT.waiting,
            percent: 0,
            url: "",
            error: "",
          }));
          this.setData({ items: [...this.data.items, ...added] });
          pump(this);
        },
      });
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
