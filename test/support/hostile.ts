// Loopback servers for the CLI's hostile-network tests: a scriptable fake registry, a portal that
// answers HTML to everything, a silent server and a trickling one. All listen on 127.0.0.1:0.

import { createHash } from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";

export interface Server {
  host: string;
  port: number;
  close(): Promise<void>;
}

async function listen(server: net.Server): Promise<{ host: string; port: number }> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  return { host: `127.0.0.1:${port}`, port };
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((r) => {
      sockets.forEach((s) => s.destroy());
      server.close(() => r());
    });
}

function track(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return sockets;
}

/** An HTTP server whose handler the test writes; every request is recorded. */
export async function startHttp(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void,
): Promise<Server & { requests: { method: string; path: string; auth?: string }[] }> {
  const requests: { method: string; path: string; auth?: string }[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({
      method: req.method ?? "",
      path: url.pathname,
      auth: req.headers.authorization,
    });
    handler(req, res, url);
  });
  const sockets = track(server);
  return { ...(await listen(server)), requests, close: closer(server, sockets) };
}

/** An SSO proxy or captive portal: 200 and an HTML page for every path and method. */
export function startPortal() {
  return startHttp((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end("<!doctype html><html><body>Please sign in</body></html>");
  });
}

/** Accepts connections and never says a word. */
export async function startSilent(): Promise<Server> {
  const server = net.createServer(() => undefined);
  const sockets = track(server);
  return { ...(await listen(server)), close: closer(server, sockets) };
}

/** Answers every request one byte of a 200 status line at a time, `everyMs` apart, forever. */
export async function startTrickle(everyMs: number): Promise<Server> {
  const text = "HTTP/1.1 200 OK\r\nDocker-Distribution-API-Version: registry/2.0\r\nX-Slow: ";
  const server = net.createServer((socket) => {
    let i = 0;
    const timer = setInterval(() => {
      socket.write(i < text.length ? text[i] : "a");
      i++;
    }, everyMs);
    socket.on("close", () => clearInterval(timer));
    socket.on("error", () => clearInterval(timer));
  });
  const sockets = track(server);
  return { ...(await listen(server)), close: closer(server, sockets) };
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** A small valid-looking OCI manifest and its digest. */
export function manifestBody(seed: string): { body: string; digest: string } {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: seed, size: 2 },
    layers: [],
  });
  return { body, digest: `sha256:${createHash("sha256").update(body).digest("hex")}` };
}

export interface FakeRegistryOptions {
  /** `repository:tag` → manifest body; others are 404. */
  images: Record<string, string>;
  /** Require this Basic login (`user:password`) on every path. */
  basic?: string;
  /** Answer 401 with a Bearer challenge naming this realm unless the request has a Bearer token. */
  bearerRealm?: string;
  /** Headers of a manifest answer, replacing the defaults (Content-Type, Docker-Content-Digest). */
  manifestHeaders?: (digest: string) => Record<string, string>;
}

/** A registry that speaks enough of the Distribution API for tag lookups. */
export function startFakeRegistry(opts: FakeRegistryOptions) {
  const version = { "Docker-Distribution-API-Version": "registry/2.0" };
  return startHttp((req, res, url) => {
    if (opts.basic !== undefined) {
      const want = `Basic ${Buffer.from(opts.basic).toString("base64")}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401, { ...version, "WWW-Authenticate": 'Basic realm="fake"' }).end();
        return;
      }
    }
    if (opts.bearerRealm !== undefined && !req.headers.authorization?.startsWith("Bearer ")) {
      res
        .writeHead(401, {
          ...version,
          "WWW-Authenticate": `Bearer realm="${opts.bearerRealm}",service="fake"`,
        })
        .end();
      return;
    }
    if (url.pathname === "/v2/") {
      res.writeHead(200, { ...version, "Content-Type": "application/json" }).end("{}");
      return;
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    const body = m ? opts.images[`${m[1]}:${m[2]}`] : undefined;
    if (body === undefined) {
      res.writeHead(404, { ...version, "Content-Type": "application/json" });
      res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      return;
    }
    const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    const headers = opts.manifestHeaders?.(digest) ?? {
      "Content-Type": OCI_MANIFEST,
      "Docker-Content-Digest": digest,
    };
    res.writeHead(200, { ...version, ...headers });
    res.end(req.method === "HEAD" ? undefined : body);
  });
}
