// A small keep-alive HTTP(S) client for registry lookups: node:http, because global fetch costs ~0.5 ms of CPU a request.
//
// `plan` must check hundreds of tags in well under a second including process start; measured
// here, 200 HEADs through fetch spent ~160 ms in undici and ~80 ms in GC, node:http about half.

import * as http from "node:http";
import * as https from "node:https";

export interface HttpResponse {
  status: number;
  /** A response header (case-insensitive), the first value if repeated. */
  header(name: string): string | undefined;
  body: Buffer;
}

/** Manifests and token answers are small; a registry sending more is broken or hostile. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export class HttpError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface TransportOptions {
  /** Longest silence on a connection (connecting included) before the request is dropped. */
  idleMs: number;
  /**
   * Longest a whole exchange may take, however steadily bytes arrive: a server trickling one header
   * byte every few seconds never trips an idle timeout.
   */
  deadlineMs: number;
  maxSockets?: number;
  /** The command's own deadline: aborting it drops every request in flight at once. */
  signal?: AbortSignal;
}

/** The reason the command's signal was aborted with, as text (`the 120 s --timeout`). */
export function abortReason(signal: AbortSignal): string {
  const reason = signal.reason as unknown;
  return reason instanceof Error ? reason.message : String(reason ?? "aborted");
}

export class HttpTransport {
  private readonly http: http.Agent;
  private readonly https: https.Agent;
  private readonly idleMs: number;
  private readonly deadlineMs: number;
  private readonly signal?: AbortSignal;

  constructor(opts: TransportOptions) {
    const maxSockets = opts.maxSockets ?? 32;
    this.idleMs = opts.idleMs;
    this.deadlineMs = opts.deadlineMs;
    this.signal = opts.signal;
    // Idle keep-alive sockets are unref'd by the agent, so they never hold the process open.
    this.http = new http.Agent({ keepAlive: true, maxSockets });
    this.https = new https.Agent({ keepAlive: true, maxSockets });
  }

  /** GET or HEAD with redirects followed (Authorization dropped when the origin changes). */
  async request(
    method: "GET" | "HEAD",
    url: string,
    headers: Record<string, string>,
  ): Promise<HttpResponse> {
    let target = new URL(url);
    let sent = headers;
    for (let hop = 0; ; hop++) {
      const res = await this.once(method, target, sent);
      const location = res.header("location");
      if (![301, 302, 303, 307, 308].includes(res.status) || !location || hop >= MAX_REDIRECTS) {
        return res;
      }
      const next = new URL(location, target);
      if (next.origin !== target.origin) {
        sent = Object.fromEntries(
          Object.entries(sent).filter(([k]) => k.toLowerCase() !== "authorization"),
        );
      }
      target = next;
    }
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private once(method: string, url: URL, headers: Record<string, string>): Promise<HttpResponse> {
    const secure = url.protocol === "https:";
    const signal = this.signal;
    if (signal?.aborted) {
      return Promise.reject(new HttpError(abortReason(signal), "ABORTED"));
    }
    return new Promise((resolve, reject) => {
      const cleanups: (() => void)[] = [];
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          cleanups.forEach((c) => c());
          fn(v);
        };
      resolve = settle(resolve);
      reject = settle(reject);
      const req = (secure ? https : http).request(
        url,
        { method, headers, agent: secure ? this.https : this.http },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY_BYTES) {
              req.destroy(new HttpError(`answer larger than ${MAX_BODY_BYTES} bytes`, "ETOOBIG"));
            } else {
              chunks.push(c);
            }
          });
          res.on("error", reject);
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              header: (name) => {
                const v = res.headers[name.toLowerCase()];
                return Array.isArray(v) ? v[0] : v;
              },
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      req.setTimeout(this.idleMs, () =>
        req.destroy(new HttpError(`no answer within ${this.idleMs} ms`, "TIMEOUT")),
      );
      const deadline = setTimeout(
        () =>
          req.destroy(new HttpError(`no complete answer within ${this.deadlineMs} ms`, "DEADLINE")),
        this.deadlineMs,
      );
      cleanups.push(() => clearTimeout(deadline));
      if (signal) {
        const onAbort = () => req.destroy(new HttpError(abortReason(signal), "ABORTED"));
        signal.addEventListener("abort", onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener("abort", onAbort));
      }
      req.on("error", reject);
      req.end();
    });
  }
}
