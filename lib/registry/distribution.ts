// Looks up tags in any OCI registry through the Distribution API: HEAD manifests, token auth, retries.
//
// Connections are kept alive, so hundreds of lookups share a few sockets; HEAD (not GET) because a
// HEAD never counts as a pull against registry rate limits.

import { createHash } from "node:crypto";
import { abortReason, HttpTransport, type HttpResponse } from "./http";
import { MANIFEST_MEDIA_TYPES, RegistryError, type RegistryCredentials } from "./types";

export interface DistributionClientOptions {
  /** Plain HTTP for a non-loopback host. */
  insecure?: boolean;
  credentials?: RegistryCredentials;
  retries?: number;
  backoffMs?: number;
  /** Per request: the longest silence, and the longest whole exchange (default 30000). */
  timeoutMs?: number;
  /** Connections per registry host (default 32). */
  maxSockets?: number;
  /** The command's deadline: once aborted, requests stop and lookups fail naming the host. */
  signal?: AbortSignal;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parse the first challenge of a `WWW-Authenticate` header (`Bearer realm="…",service="…",scope="…"`). */
export function parseChallenge(header: string | null | undefined): Challenge | undefined {
  const m = header ? /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header) : null;
  if (!m) {
    return undefined;
  }
  const params: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let p = re.exec(m[2]); p !== null; p = re.exec(m[2])) {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3];
  }
  return { scheme: m[1].toLowerCase(), params };
}

/** Loopback registries (a local docker-registry, a port-forward) never have TLS. */
export function isLoopback(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
  return name === "localhost" || name === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** `host[:port]`, a bracketed IPv6 address allowed; no scheme, no path. */
export const REGISTRY_HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The digests a manifest may have. The image spec's grammar is `algorithm ":" encoded`, and for
 * its registered algorithms: "When the algorithm identifier is sha256, the encoded portion MUST
 * match /[a-f0-9]{64}/" and for sha512 "/[a-f0-9]{128}/" ("[A-F] MUST NOT be used"). Nothing else
 * is pinned into a KServe manifest: an HTML page's hash is not an image.
 */
export const DIGEST_PATTERN = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/**
 * The registry spec's API version check: "When a `200 OK` or `401 Unauthorized` response is
 * returned, the "Docker-Distribution-API-Version" header SHOULD be set to "registry/2.0". Clients
 * MAY require this header value to determine if the endpoint serves this API." We require it: a
 * portal or SSO proxy answering 200 to every path would otherwise pass for a registry.
 */
export const API_VERSION_HEADER = "docker-distribution-api-version";
export const API_VERSION = "registry/2.0";

/**
 * The media type of a manifest answer, without parameters ("The client SHOULD ignore parameters on
 * the Content-Type header"); the spec says "In a successful response, the `Content-Type` header
 * will indicate the type of the returned manifest", so anything but a manifest type is not one.
 */
export function manifestMediaType(contentType: string | undefined): string | undefined {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  return (MANIFEST_MEDIA_TYPES as readonly string[]).includes(type) ? type : undefined;
}

/**
 * Whether Basic credentials for the registry at `registry` may go to the token service at `realm`:
 * over HTTPS always; over plain HTTP only to the registry's own origin, and only when the registry
 * itself was reached over plain HTTP (a loopback or --insecure registry).
 */
export function maySendCredentials(registry: URL, realm: URL): boolean {
  if (realm.protocol === "https:") {
    return true;
  }
  return (
    realm.protocol === "http:" && registry.protocol === "http:" && realm.host === registry.host
  );
}
/** Transient network faults worth another try; a refused connection or unknown host is not. */
const RETRYABLE = new Set([
  "DEADLINE",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "EAI_AGAIN",
]);
const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;
const ACCEPT = MANIFEST_MEDIA_TYPES.join(", ");
/** The distribution spec's default token lifetime when the token service names none. */
const DEFAULT_TOKEN_SECONDS = 60;

interface Token {
  value: string;
  expiresAt: number;
}

/** Wait `ms`, or fail at once when the command's deadline passes. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function errorCode(e: unknown): string {
  const err = e as { name?: string; code?: string };
  return err?.code ?? err?.name ?? "unknown";
}

export class DistributionClient {
  readonly baseUrl: string;
  /** Request counters, for tests and benchmarks. */
  readonly stats = { requests: 0, tokenRequests: 0 };
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly credentials?: RegistryCredentials;
  private readonly signal?: AbortSignal;
  /** Set when credentials were kept from a token service they must not reach; says why. */
  private withheld?: string;
  private probed?: Promise<void>;
  /** Learnt from the first challenge, so later repositories fetch a token before their first request. */
  private bearer?: { realm: string; service?: string };
  private basic = false;
  private readonly tokens = new Map<string, Promise<Token>>();
  private readonly transport: HttpTransport;

  constructor(
    readonly host: string,
    opts: DistributionClientOptions = {},
  ) {
    const scheme = opts.insecure || isLoopback(host) ? "http" : "https";
    this.baseUrl = `${scheme}://${host}`;
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 250;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.credentials = opts.credentials;
    this.signal = opts.signal;
    this.transport = new HttpTransport({
      idleMs: this.timeoutMs,
      deadlineMs: this.timeoutMs,
      maxSockets: opts.maxSockets,
      signal: opts.signal,
    });
  }

  /** Drop the kept-alive connections (they never hold the process open, but tests like it tidy). */
  close(): void {
    this.transport.close();
  }

  /** `GET /v2/` once: proves this is a registry (so a 404 later really means "missing") and learns its auth. */
  probe(): Promise<void> {
    this.probed ??= this.doProbe();
    return this.probed;
  }

  /**
   * The digest a tag (or digest) points at, or undefined when the repository or the tag does not
   * exist. Anything else (auth, network, odd answers) throws a RegistryError.
   */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    await this.probe();
    const image = `${repository}:${reference}`;
    const path = `/v2/${repository}/manifests/${reference}`;
    let scope = `repository:${repository}:pull`;
    let auth = await this.authFor(scope, false);
    let res = await this.send("HEAD", path, { Accept: ACCEPT, ...auth });
    // One round to answer a challenge, one more in case the cached token had just expired.
    for (let round = 0; res.status === 401 && round < 2; round++) {
      const challenge = parseChallenge(res.header("www-authenticate"));
      if (challenge?.scheme === "bearer" && challenge.params.realm) {
        this.bearer = { realm: challenge.params.realm, service: challenge.params.service };
        scope = challenge.params.scope ?? scope;
        auth = await this.authFor(
          scope,
          round > 0 || auth.Authorization?.startsWith("Bearer ") === true,
        );
      } else if (challenge?.scheme === "basic" && this.credentials && !this.basic) {
        this.basic = true;
        auth = await this.authFor(scope, false);
      } else {
        break;
      }
      res = await this.send("HEAD", path, { Accept: ACCEPT, ...auth });
    }
    switch (res.status) {
      case 200:
        this.requireManifest(res, `HEAD ${path}`, image);
        return this.digestOf(res, path, { Accept: ACCEPT, ...auth }, image);
      case 404:
        // NAME_UNKNOWN (no such repository) and MANIFEST_UNKNOWN (no such tag) alike: HEAD has no body to tell them apart.
        return undefined;
      case 401:
      case 403:
        throw new RegistryError(
          `registry ${this.host} refused to show ${image} (HTTP ${res.status}${auth.Authorization ? " even with credentials" : ""}): ${this.credentialFix(repository)}`,
          image,
        );
      default:
        throw new RegistryError(
          `registry ${this.host} answered HTTP ${res.status} for HEAD ${path}${res.status >= 500 ? ` after ${this.retries + 1} tries` : ""}; expected 200 (present) or 404 (missing). Check that ${this.host} is the registry you meant and try again`,
          image,
        );
    }
  }

  private credentialFix(repository: string): string {
    if (this.withheld) {
      return this.withheld;
    }
    return this.credentials
      ? `check that the login from ${this.credentials.source} may pull ${repository} and is current`
      : `log in for ${this.host} (REGISTRY_USERNAME and REGISTRY_PASSWORD, docker login, or REGISTRY_AUTH_FILE) with an account that may pull ${repository}`;
  }

  /** A manifest answer must say it is one: an HTML page or JSON error with status 200 is not. */
  private requireManifest(res: HttpResponse, what: string, image: string): void {
    if (manifestMediaType(res.header("content-type")) === undefined) {
      throw new RegistryError(
        `registry ${this.host} answered ${what} with 200 but Content-Type ${JSON.stringify(res.header("content-type") ?? "")}, not a manifest media type (${MANIFEST_MEDIA_TYPES.join(", ")}): ${this.host} is not behaving as an OCI registry (a login page or proxy?); check the registry address`,
        image,
      );
    }
  }

  private async doProbe(): Promise<void> {
    const res = await this.send("GET", "/v2/", {});
    if (res.status === 200 || res.status === 401) {
      const version = res.header(API_VERSION_HEADER);
      if (version?.trim() !== API_VERSION) {
        const type = res.header("content-type");
        throw new RegistryError(
          `${this.host} is not an OCI registry: GET ${this.baseUrl}/v2/ answered ${res.status}${type ? ` (${type.split(";")[0]})` : ""} ${version === undefined ? "without" : `with ${JSON.stringify(version)} in`} the header 'Docker-Distribution-API-Version: ${API_VERSION}' every registry sends (a login page, captive portal or proxy answers like this); check the registry address (--registry or the stack's registry setting) and the network path`,
        );
      }
    }
    if (res.status >= 200 && res.status < 300) {
      return;
    }
    if (res.status === 401) {
      const challenge = parseChallenge(res.header("www-authenticate"));
      if (challenge?.scheme === "bearer" && challenge.params.realm) {
        this.bearer = { realm: challenge.params.realm, service: challenge.params.service };
      } else if (challenge?.scheme === "basic") {
        this.basic = true;
        if (!this.credentials) {
          throw new RegistryError(
            `registry ${this.host} requires a login (HTTP 401, Basic): set REGISTRY_USERNAME and REGISTRY_PASSWORD, or log in with docker login or REGISTRY_AUTH_FILE`,
          );
        }
      }
      return;
    }
    if (res.status === 404) {
      throw new RegistryError(
        `${this.baseUrl}/v2/ answered 404: ${this.host} does not speak the OCI Distribution API; check the registry address (host[:port], no path: --registry or the stack's registry setting)`,
      );
    }
    throw new RegistryError(
      `registry ${this.host} answered HTTP ${res.status} to GET /v2/${res.status >= 500 ? ` after ${this.retries + 1} tries` : ""}; check that ${this.baseUrl} is an OCI registry and that it is healthy`,
    );
  }

  private async authFor(scope: string, refresh: boolean): Promise<Record<string, string>> {
    if (this.bearer) {
      return { Authorization: `Bearer ${(await this.token(scope, refresh)).value}` };
    }
    if (this.basic && this.credentials) {
      const { username, password } = this.credentials;
      return {
        Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`,
      };
    }
    return {};
  }

  /** A token for one scope, shared by every lookup in that repository and fetched once at a time. */
  private async token(scope: string, refresh: boolean): Promise<Token> {
    const { realm, service } = this.bearer!;
    const key = `${realm} ${service ?? ""} ${scope}`;
    const cached = this.tokens.get(key);
    if (cached && !refresh) {
      const token = await cached;
      if (token.expiresAt > Date.now() + 5_000) {
        return token;
      }
    }
    const pending = this.fetchToken(realm, service, scope);
    this.tokens.set(key, pending);
    pending.catch(() => this.tokens.delete(key));
    return pending;
  }

  private async fetchToken(
    realm: string,
    service: string | undefined,
    scope: string,
  ): Promise<Token> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(
        `registry ${this.host} named a token service that is not a URL (realm ${JSON.stringify(realm)}); the registry's auth configuration is broken`,
      );
    }
    if (service !== undefined) {
      url.searchParams.set("service", service);
    }
    url.searchParams.set("scope", scope);
    const headers: Record<string, string> = {};
    if (this.credentials && maySendCredentials(new URL(this.baseUrl), url)) {
      const { username, password } = this.credentials;
      headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    } else if (this.credentials) {
      // Asked anonymously instead: a public image still resolves, and a refusal says why.
      this.withheld = `the login from ${this.credentials.source} was not sent to ${url.origin}: credentials go over plain HTTP only to the registry's own origin, and never when the registry itself is HTTPS; the registry's token realm must be HTTPS`;
    }
    this.stats.tokenRequests++;
    const res = await this.send("GET", url.toString(), headers);
    const text = res.body.toString("utf8");
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(
        `token service ${url.origin}${url.pathname} of registry ${this.host} refused a token for ${scope} (HTTP ${res.status}): ${this.credentialFix(scope.split(":")[1] ?? scope)}`,
      );
    }
    if (res.status < 200 || res.status >= 300) {
      throw new RegistryError(
        `token service ${url.origin}${url.pathname} of registry ${this.host} answered HTTP ${res.status} for ${scope}; try again later`,
      );
    }
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(text);
    } catch {
      throw new RegistryError(
        `token service ${url.origin}${url.pathname} of registry ${this.host} did not answer JSON; check the registry's auth configuration`,
      );
    }
    const value = body.token ?? body.access_token;
    if (!value) {
      throw new RegistryError(
        `token service ${url.origin}${url.pathname} of registry ${this.host} answered without a token for ${scope}`,
      );
    }
    const seconds =
      typeof body.expires_in === "number" && body.expires_in > 0
        ? body.expires_in
        : DEFAULT_TOKEN_SECONDS;
    return { value, expiresAt: Date.now() + seconds * 1000 };
  }

  private async digestOf(
    res: HttpResponse,
    path: string,
    headers: Record<string, string>,
    image: string,
  ): Promise<string> {
    let digest = res.header("docker-content-digest");
    if (!digest) {
      // A registry may leave the header off a HEAD; the digest is then the hash of the manifest bytes.
      const full = await this.send("GET", path, headers);
      if (full.status !== 200) {
        throw new RegistryError(
          `registry ${this.host} answered HEAD ${path} with 200 but GET with HTTP ${full.status}; try again`,
          image,
        );
      }
      this.requireManifest(full, `GET ${path}`, image);
      const computed = `sha256:${createHash("sha256").update(full.body).digest("hex")}`;
      digest = full.header("docker-content-digest") ?? computed;
      // The spec: clients "MUST verify" Docker-Content-Digest when they use it; we have the bytes.
      if (digest.startsWith("sha256:") && digest !== computed) {
        throw new RegistryError(
          `registry ${this.host} gave ${image} the digest ${digest}, but the manifest it sent hashes to ${computed}; the answer was altered on the way or the registry is broken`,
          image,
        );
      }
    }
    if (!DIGEST_PATTERN.test(digest)) {
      throw new RegistryError(
        `registry ${this.host} gave ${image} the digest ${JSON.stringify(digest.slice(0, 200))}, which is not sha256:<64 hex> or sha512:<128 hex>; ${this.host} is not behaving as an OCI registry`,
        image,
      );
    }
    return digest;
  }

  /** One HTTP exchange with retries on 429, 5xx and dropped connections; HEAD/GET only, so retrying is safe. */
  private async send(
    method: "GET" | "HEAD",
    pathOrUrl: string,
    headers: Record<string, string>,
  ): Promise<HttpResponse> {
    const url = pathOrUrl.startsWith("/") ? this.baseUrl + pathOrUrl : pathOrUrl;
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        this.stats.requests++;
        res = await this.transport.request(method, url, headers);
      } catch (e) {
        const code = errorCode(e);
        if (code === "ABORTED" || this.signal?.aborted) {
          throw this.deadlineError(method, url);
        }
        if (attempt < this.retries && RETRYABLE.has(code)) {
          await this.pause(this.delay(attempt), method, url);
          continue;
        }
        throw new RegistryError(this.networkMessage(method, url, code, attempt + 1));
      }
      if ((res.status === 429 || res.status >= 500) && attempt < this.retries) {
        await this.pause(this.delay(attempt, res.header("retry-after")), method, url);
        continue;
      }
      return res;
    }
  }

  private async pause(ms: number, method: string, url: string): Promise<void> {
    try {
      await sleep(ms, this.signal);
    } catch {
      throw this.deadlineError(method, url);
    }
  }

  private deadlineError(method: string, url: string): RegistryError {
    const host = new URL(url).host;
    const via = host === this.host ? "" : ` (token service of registry ${this.host})`;
    return new RegistryError(
      `${host}${via} did not answer ${method} ${url} within ${abortReason(this.signal!)}; check the network path to ${host}, or allow more time`,
    );
  }

  private delay(attempt: number, retryAfter?: string | null): number {
    const asked = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : 0;
    const backoff = this.backoffMs * 2 ** attempt * (0.5 + Math.random() / 2);
    return Math.min(Math.max(asked, backoff), 10_000);
  }

  private networkMessage(method: string, url: string, code: string, tries: number): string {
    const what = `${method} ${url}`;
    const after = tries > 1 ? ` after ${tries} tries` : "";
    if (code === "ECONNREFUSED") {
      return `cannot reach registry ${this.host}: connection refused (${what}). Is the registry running and listening there? (an unreachable registry's images are never reported as missing)`;
    }
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
      return `cannot resolve the registry host in ${url} (${code}); check the registry address and your DNS`;
    }
    if (code === "DEADLINE") {
      return `${new URL(url).host} did not finish answering within ${this.timeoutMs / 1000} s${after} (${what}; it sends, but too slowly); check the network path to the registry`;
    }
    if (code === "TIMEOUT" || code.includes("TIMEOUT") || code === "ETIMEDOUT") {
      return `${new URL(url).host} did not answer within ${this.timeoutMs / 1000} s${after} (${what}); check the network path to the registry`;
    }
    if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "EPROTO") {
      return `TLS handshake with ${this.host} failed (${code}): the registry probably speaks plain HTTP; pass --insecure`;
    }
    if (TLS_TRUST.test(code)) {
      return `the TLS certificate of ${this.host} is not trusted (${code}): point NODE_EXTRA_CA_CERTS at its CA bundle, or pass --insecure if the registry serves plain HTTP`;
    }
    return `connection to registry ${this.host} failed${after} (${code}; ${what}); check that the registry is up and reachable`;
  }
}
