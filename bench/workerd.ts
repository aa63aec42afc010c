/** Runs a bundled Worker on the `workerd` binary itself (no wrangler proxy) with a generated config, on 127.0.0.1. */
import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const WORKERD = resolve(import.meta.dirname, "../node_modules/workerd/bin/workerd");

export interface RunningWorkerd {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on("error", fail);
  });
}

export async function waitForHttp(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once("exit", () => done());
    child.kill("SIGTERM");
  });
}

/** `durableObjects`: binding name → exported class, each with SQLite storage on disk in the run's temporary folder. */
export async function startWorkerd(
  modulePath: string,
  bindings: Record<string, string>,
  compatibilityDate: string,
  durableObjects: Record<string, string> = {},
): Promise<RunningWorkerd> {
  const dir = await mkdtemp(join(tmpdir(), "bench-workerd-"));
  const port = await freePort();
  const bindingList = Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(", ");
  const objects = Object.entries(durableObjects);
  const objectBindings = objects.map(([name, className]) => `, (name = ${JSON.stringify(name)}, durableObjectNamespace = ${JSON.stringify(className)})`).join("");
  const namespaces = objects.map(([, className]) => `(className = ${JSON.stringify(className)}, uniqueKey = "bench-${className}", enableSql = true)`).join(", ");
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker), (name = "do-disk", disk = (path = ${JSON.stringify(join(dir, "do"))}, writable = true))],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${JSON.stringify(compatibilityDate)},
  bindings = [${bindingList}${objectBindings}],
  durableObjectNamespaces = [${namespaces}],
  durableObjectStorage = (localDisk = "do-disk"),
);
`;
  await mkdir(join(dir, "do"));
  // embed paths are relative to the config file.
  await copyFile(modulePath, join(dir, "worker.js"));
  const configPath = join(dir, "config.capnp");
  await writeFile(configPath, config);
  const child = spawn(WORKERD, ["serve", configPath, "--experimental"], { stdio: ["ignore", "ignore", "inherit"] });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, fail) => child.once("exit", (code) => fail(new Error(`workerd exited with code ${code}`))));
  await Promise.race([waitForHttp(url), exited]);
  return {
    url,
    pid: child.pid!,
    async stop() {
      await stopProcess(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
