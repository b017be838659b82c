// A small OCI Distribution client that can write: manifests and blobs by digest, tags, and the referrers API.
//
// The lookup client in lib/registry is HEAD/GET only and tuned for hundreds of tag checks; attaching
// a BOM is a handful of requests that also push, so it uses fetch and a push-scoped token.

import { createHash } from "node:crypto";
import { isLoopback, parseChallenge } from "../registry/distribution";
import { MANIFEST_MEDIA_TYPES, RegistryError } from "../registry/types";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
  data?: string;
}

export interface Fetched {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface OciClientOptions {
  /** Plain HTTP for a non-loopback host. */
  insecure?: boolean;
  credentials?: { username: string; password: string };
}

export const sha256Digest = (bytes: Buffer) =>
  `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

const ACCEPT = MANIFEST_MEDIA_TYPES.join(", ");

export class OciClient {
  readonly baseUrl: string;
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly host: string,
    private readonly opts: OciClientOptions = {},
  ) {
    this.baseUrl = `${opts.insecure || isLoopback(host) ? "http" : "https"}://${host}`;
  }

  /** The manifest or index `reference` names, or undefined on 404. */
  async getManifest(repository: string, reference: string): Promise<Fetched | undefined> {
    const res = await this.send("GET", repository, `manifests/${reference}`, { Accept: ACCEPT });
    if (res.status === 404) {
      return undefined;
    }
    const bytes = await this.expect(res, [200], `GET ${repository} manifest ${reference}`);
    const digest = sha256Digest(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new RegistryError(
        `registry ${this.host} returned a manifest for ${repository}@${reference} whose bytes hash to ${digest}; refusing content that does not match its digest`,
      );
    }
    const mediaType =
      (JSON.parse(bytes.toString("utf8")) as { mediaType?: string }).mediaType ??
      res.headers.get("content-type") ??
      "";
    return { bytes, mediaType, digest };
  }

  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.send("GET", repository, `blobs/${digest}`, {});
    const bytes = await this.expect(res, [200], `GET ${repository} blob ${digest}`);
    if (sha256Digest(bytes) !== digest) {
      throw new RegistryError(
        `registry ${this.host} returned blob ${digest} of ${repository} with other content; refusing it`,
      );
    }
    return bytes;
  }

  /** Upload a blob unless the repository has it (monolithic POST then PUT, which every registry takes). */
  async pushBlob(repository: string, bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    const head = await this.send("HEAD", repository, `blobs/${digest}`, {}, true);
    if (head.status !== 200) {
      const start = await this.send("POST", repository, "blobs/uploads/", {}, true);
      await this.expect(start, [202], `start a blob upload to ${repository}`);
      const location = new URL(start.headers.get("location") ?? "", `${this.baseUrl}/`);
      location.searchParams.set("digest", digest);
      const put = await this.send(
        "PUT",
        repository,
        location.toString(),
        {
          "Content-Type": "application/octet-stream",
        },
        true,
        bytes,
      );
      await this.expect(put, [201], `upload blob ${digest} to ${repository}`);
    }
    return { mediaType, digest, size: bytes.length };
  }

  /** PUT a manifest by tag or digest; returns the registry's OCI-Subject header (set when it processed `subject`). */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<{ subject?: string }> {
    const res = await this.send(
      "PUT",
      repository,
      `manifests/${reference}`,
      {
        "Content-Type": mediaType,
      },
      true,
      bytes,
    );
    await this.expect(res, [201], `push manifest ${repository}:${reference}`);
    return { subject: res.headers.get("oci-subject") ?? undefined };
  }

  /** The referrers API's index for `digest`, or undefined when the registry has no referrers API (404). */
  async referrers(repository: string, digest: string): Promise<Descriptor[] | undefined> {
    const res = await this.send("GET", repository, `referrers/${digest}`, { Accept: OCI_INDEX });
    if (res.status === 404) {
      return undefined;
    }
    const bytes = await this.expect(res, [200], `GET ${repository} referrers of ${digest}`);
    return (JSON.parse(bytes.toString("utf8")) as { manifests?: Descriptor[] }).manifests ?? [];
  }

  private async expect(res: Response, ok: number[], what: string): Promise<Buffer> {
    const bytes = Buffer.from(await res.arrayBuffer());
    if (!ok.includes(res.status)) {
      const fix =
        res.status === 401 || res.status === 403
          ? this.opts.credentials
            ? "check that REGISTRY_USERNAME/REGISTRY_PASSWORD may push there and are current"
            : "set REGISTRY_USERNAME and REGISTRY_PASSWORD (for ECR: AWS and `aws ecr get-login-password`)"
          : "check the registry address and that the repository exists";
      throw new RegistryError(
        `registry ${this.host}: ${what} answered HTTP ${res.status} ${bytes.toString("utf8").slice(0, 200).trim()}; ${fix}`,
      );
    }
    return bytes;
  }

  private async send(
    method: string,
    repository: string,
    pathOrUrl: string,
    headers: Record<string, string>,
    push = false,
    body?: Buffer,
  ): Promise<Response> {
    const url = /^https?:/.test(pathOrUrl)
      ? pathOrUrl
      : `${this.baseUrl}/v2/${repository}/${pathOrUrl}`;
    const scope = `repository:${repository}:${push ? "pull,push" : "pull"}`;
    const call = (auth: Record<string, string>) =>
      fetch(url, { method, headers: { ...headers, ...auth }, body, redirect: "follow" }).catch(
        (e: Error & { cause?: { code?: string } }) => {
          throw new RegistryError(
            `cannot reach registry ${this.host} (${method} ${url}: ${e.cause?.code ?? e.message}); check that it is up and the address is right`,
          );
        },
      );
    const cached = this.tokens.get(scope);
    let res = await call(cached ? { Authorization: cached } : {});
    if (res.status === 401) {
      const auth = await this.answer(res.headers.get("www-authenticate"), scope);
      if (auth) {
        this.tokens.set(scope, auth);
        res = await call({ Authorization: auth });
      }
    }
    return res;
  }

  /** The Authorization value answering a challenge: Basic credentials, or a Bearer token for `scope`. */
  private async answer(header: string | null, scope: string): Promise<string | undefined> {
    const challenge = parseChallenge(header);
    const creds = this.opts.credentials;
    const basic = creds
      ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`
      : undefined;
    if (challenge?.scheme === "basic") {
      return basic;
    }
    if (challenge?.scheme !== "bearer" || !challenge.params.realm) {
      return undefined;
    }
    const url = new URL(challenge.params.realm);
    if (challenge.params.service) {
      url.searchParams.set("service", challenge.params.service);
    }
    url.searchParams.set("scope", scope);
    const res = await fetch(url, { headers: basic ? { Authorization: basic } : {} });
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!res.ok || !token) {
      throw new RegistryError(
        `token service ${url.origin}${url.pathname} of registry ${this.host} refused a token for ${scope} (HTTP ${res.status}); check REGISTRY_USERNAME/REGISTRY_PASSWORD`,
      );
    }
    return `Bearer ${token}`;
  }
}
