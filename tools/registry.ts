// Starts Debian's docker-registry (CNCF distribution) on 127.0.0.1 with throwaway storage, for tests.
import { spawn, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface LocalRegistry {
  /** `127.0.0.1:<port>`, the host part of image references. */
  host: string;
  port: number;
  /** Storage directory (removed by `stop`). */
  root: string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Start a registry with no auth and delete enabled; resolves once `/v2/` answers. */
export async function startRegistry(): Promise<LocalRegistry> {
  const port = await freePort();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "registry-"));
  const config = path.join(root, "config.yml");
  fs.writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      // The access log would fill a pipe nobody drains while a test blocks in execFileSync.
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${path.join(root, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  // stderr goes to a file, not a pipe: a parent blocked in a sync call cannot stall the registry.
  const logFile = path.join(root, "registry.log");
  const log = fs.openSync(logFile, "w");
  const child: ChildProcess = spawn("docker-registry", ["serve", config], {
    stdio: ["ignore", "ignore", log],
  });
  fs.closeSync(log);
  const readLog = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`docker-registry exited with ${child.exitCode}: ${readLog().slice(-500)}`);
    }
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 200) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `docker-registry did not answer on ${host} within 15 s: ${readLog().slice(-500)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    port,
    root,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      }
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
