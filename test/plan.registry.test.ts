// `plan` against a real docker-registry on 127.0.0.1: statuses, exact tags, indexes, Bearer tokens, faults and exit codes.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { progressLine } from "../cli/selection";
import type { ImageSpec } from "../lib/manifest";
import { checkImages, DEFAULT_CONCURRENCY, RegistryError } from "../lib/registry";
import { listStacks, readStackFile } from "../lib/stackFile";
import { type LayoutImage, pushImage, writeOciLayout } from "../tools/ociImage";
import { freePort, type LocalRegistry, startRegistry } from "../tools/registry";
import { requireTools } from "./support/tools";
import { type ProcessRun, runCli, runProcess } from "./support/cli";
import { imagesOf, MANIFEST, planArgs, SHA } from "./support/planCatalog";

const ROOT = path.resolve(__dirname, "..");
const PREFIX = "plan-test";

// ---- helpers --------------------------------------------------------------------------------

/** The CLI in process, streams captured. */
const run = runCli;

/** The CLI as a real process, from source. */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<ProcessRun> {
  return runProcess(args, { env });
}

function images(manifest: string, prefix = PREFIX): ImageSpec[] {
  return imagesOf(manifest, prefix);
}

interface Hit {
  method: string;
  path: string;
  auth?: string;
  status: number;
}

interface Proxy {
  host: string;
  hits: Hit[];
  tokens: URLSearchParams[];
  /** TCP connections accepted, and the most requests open at once. */
  connections: number;
  maxInFlight: number;
  close(): Promise<void>;
}

type Behaviour = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  ctx: { url: URL; host: string; proxy: Proxy; forward: () => void },
) => void;

/** A loopback HTTP server in front of the registry whose behaviour each test scripts. */
async function startProxy(upstream: string, behave: Behaviour): Promise<Proxy> {
  const [upHost, upPort] = upstream.split(":");
  const proxy: Proxy = {
    host: "",
    hits: [],
    tokens: [],
    connections: 0,
    maxInFlight: 0,
    close: async () => undefined,
  };
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight += 1;
    proxy.maxInFlight = Math.max(proxy.maxInFlight, inFlight);
    res.on("close", () => (inFlight -= 1));
    const url = new URL(req.url ?? "/", "http://proxy");
    const hit: Hit = {
      method: req.method ?? "",
      path: url.pathname,
      auth: req.headers.authorization,
      status: 0,
    };
    proxy.hits.push(hit);
    const origWriteHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      hit.status = status;
      return (origWriteHead as (...a: unknown[]) => http.ServerResponse)(status, ...rest);
    }) as typeof res.writeHead;
    const forward = () => {
      const headers = { ...req.headers, host: upstream };
      delete headers.authorization;
      const up = http.request(
        { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      req.pipe(up);
    };
    behave(req, res, { url, host: proxy.host, proxy, forward });
  });
  server.on("connection", () => (proxy.connections += 1));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return proxy;
}

const basic = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

/** The distribution spec's token flow: 401 + Bearer challenge without the right token; a token endpoint. */
function bearerRegistry(opts: {
  openPing?: boolean;
  requireLogin?: string;
  neverAccept?: boolean;
}): Behaviour {
  return (req, res, { url, host, proxy, forward }) => {
    if (url.pathname === "/token") {
      proxy.tokens.push(url.searchParams);
      if (opts.requireLogin !== undefined && req.headers.authorization !== opts.requireLogin) {
        res.writeHead(401, { "Content-Type": "application/json" });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      // Docker Hub answers both fields; answer only access_token to prove it is read.
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({ access_token: `tok:${url.searchParams.get("scope")}`, expires_in: 300 }),
      );
      return;
    }
    const m = /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(url.pathname);
    const scope = m ? `repository:${m[1]}:pull` : undefined;
    const auth = req.headers.authorization ?? "";
    const ok = opts.neverAccept
      ? false
      : scope
        ? auth === `Bearer tok:${scope}`
        : opts.openPing === true || auth.startsWith("Bearer tok:");
    if (!ok) {
      res.writeHead(401, {
        "WWW-Authenticate": `Bearer realm="http://${host}/token",service="test-registry"${scope ? `,scope="${scope}"` : ""}`,
        "Content-Type": "application/json",
        "Docker-Distribution-API-Version": "registry/2.0",
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    forward();
  };
}

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = val;
      }
    }
  };
  set(vars);
  return fn().finally(() => set(saved));
}

// ---- the suite ------------------------------------------------------------------------------

describe("plan against a local registry", function () {
  this.timeout(60_000);
  let registry: LocalRegistry;
  let dir: string;
  let manifest: string;
  let layout: Record<string, LayoutImage>;
  const base = () => planArgs(manifest, PREFIX);

  before(async function () {
    requireTools(this, ["docker-registry", "skopeo"]);
    registry = await startRegistry();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-registry-"));
    manifest = path.join(dir, "models.yaml");
    fs.writeFileSync(manifest, MANIFEST);
    const layoutDir = path.join(dir, "layout");
    layout = Object.fromEntries(
      writeOciLayout(layoutDir, [
        { tag: "alpha" },
        { tag: "beta-10" },
        { tag: "beta-old" },
        { tag: "gamma" },
        { tag: "gamma-cuda", index: true },
      ]).map((i) => [i.tag, i]),
    );
    const push = (key: string, repo: string, tag: string) =>
      pushImage(layoutDir, layout[key], registry.host, `${PREFIX}/${repo}`, tag);
    await Promise.all([
      push("alpha", "alpha", "0.1.0"),
      // The substring trap: KAITO greps `crane ls` output, where "10.2.0" contains "0.2.0".
      push("beta-10", "beta", "10.2.0"),
      push("beta-old", "beta", "0.2.0-old"),
      push("gamma", "gamma", "0.3.0"),
      push("gamma-cuda", "gamma", "0.3.0-cuda"),
    ]);
  });

  after(async () => {
    await registry?.stop();
    if (dir) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const expected = (host: string) => [
    {
      name: "alpha",
      model: "alpha",
      variant: "cpu",
      repository: `${PREFIX}/alpha`,
      tag: "0.1.0",
      uri: `oci://${host}/${PREFIX}/alpha:0.1.0`,
      status: "present",
      digest: layout.alpha.digest,
    },
    {
      name: "beta",
      model: "beta",
      variant: "cpu",
      repository: `${PREFIX}/beta`,
      tag: "0.2.0",
      uri: `oci://${host}/${PREFIX}/beta:0.2.0`,
      status: "missing",
      // The catalogue gives no sizeGB: the estimate is unknown, never guessed.
      estimate: { computeType: "BUILD_GENERAL1_MEDIUM", minutes: null, usd: null },
    },
    {
      name: "gamma",
      model: "gamma",
      variant: "cpu",
      repository: `${PREFIX}/gamma`,
      tag: "0.3.0",
      uri: `oci://${host}/${PREFIX}/gamma:0.3.0`,
      status: "present",
      digest: layout.gamma.digest,
    },
    {
      name: "gamma-cuda",
      model: "gamma",
      variant: "cuda",
      repository: `${PREFIX}/gamma`,
      tag: "0.3.0-cuda",
      uri: `oci://${host}/${PREFIX}/gamma:0.3.0-cuda`,
      status: "present",
      digest: layout["gamma-cuda"].digest,
    },
    {
      name: "delta",
      model: "delta",
      variant: "cpu",
      repository: `${PREFIX}/delta`,
      tag: "0.1.0",
      uri: `oci://${host}/${PREFIX}/delta:0.1.0`,
      status: "missing",
      // The catalogue gives no sizeGB: the estimate is unknown, never guessed.
      estimate: { computeType: "BUILD_GENERAL1_MEDIUM", minutes: null, usd: null },
    },
    {
      name: "epsilon",
      model: "epsilon",
      variant: "cpu",
      repository: `${PREFIX}/epsilon`,
      tag: "0.1.0",
      uri: `oci://${host}/${PREFIX}/epsilon:0.1.0`,
      status: "skipped",
    },
  ];

  it("--json: present with digest, missing (substring trap, no repository), skipped, index digest", async () => {
    const r = await run([...base(), "--registry", registry.host, "--json"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    assert.deepEqual(JSON.parse(r.out), expected(registry.host));
  });

  it("an image index tag is present with the index's digest, not its manifest's", async () => {
    const result = await checkImages(images(MANIFEST), {
      kind: "distribution",
      host: registry.host,
    });
    const cuda = result.checks.find((c) => c.image.name === "gamma-cuda")!;
    assert.equal(cuda.digest, layout["gamma-cuda"].digest);
    assert.notEqual(cuda.digest, layout["gamma-cuda"].manifestDigest);
    assert.equal(
      cuda.digestUri,
      `oci://${registry.host}/${PREFIX}/gamma@${layout["gamma-cuda"].digest}`,
    );
  });

  it("prints a table with short digests and a footer", async () => {
    const r = await run([...base(), "--registry", registry.host]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split("\n");
    assert.match(lines[0], /^NAME +TAG +STATUS +DIGEST +BUILD ESTIMATE$/);
    assert.match(
      lines[1],
      new RegExp(`^alpha +0\\.1\\.0 +present +${layout.alpha.digest.slice(0, 19)}$`),
    );
    assert.match(
      lines[2],
      /^beta +0\.2\.0 +missing +BUILD_GENERAL1_MEDIUM, unknown \(no sizeGB\)$/,
    );
    assert.match(lines[4], /^gamma-cuda +0\.3\.0-cuda +present +sha256:[0-9a-f]{12}$/);
    assert.match(lines[6], /^epsilon +0\.1\.0 +skipped$/);
    assert.equal(
      lines[8],
      `3 present, 2 missing, 1 skipped (registry ${registry.host}, stack dev)`,
    );
  });

  it("the real CLI: exit 0 and JSON on stdout, whatever is missing", async () => {
    const r = await cli([...base(), "--registry", registry.host, "--json"]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), expected(registry.host));
  });

  describe("Bearer token auth (distribution spec token flow)", () => {
    let proxy: Proxy | undefined;
    afterEach(async () => {
      await proxy?.close();
      proxy = undefined;
    });

    it("fetches one token per repository scope with service and scope, and sends it", async () => {
      proxy = await startProxy(registry.host, bearerRegistry({}));
      const r = await run([...base(), "--registry", proxy.host, "--json"]);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(JSON.parse(r.out), expected(proxy.host));
      const scopes = proxy.tokens.map((t) => t.get("scope")).sort();
      assert.deepEqual(
        scopes,
        ["alpha", "beta", "delta", "gamma"].map((n) => `repository:${PREFIX}/${n}:pull`),
      );
      assert.ok(proxy.tokens.every((t) => t.get("service") === "test-registry"));
      const manifestHits = proxy.hits.filter((h) => h.path.includes("/manifests/"));
      assert.equal(manifestHits.length, 5);
      assert.ok(manifestHits.every((h) => h.auth?.startsWith("Bearer tok:repository:")));
    });

    it("answers a challenge on the manifest itself when /v2/ is open", async () => {
      proxy = await startProxy(registry.host, bearerRegistry({ openPing: true }));
      const result = await checkImages(images(MANIFEST), {
        kind: "distribution",
        host: proxy.host,
      });
      assert.deepEqual(
        result.checks.map((c) => c.status),
        ["present", "missing", "present", "present", "missing", "skipped"],
      );
      const challenged = proxy.hits.filter(
        (h) => h.path.includes("/manifests/") && h.status === 401,
      );
      assert.ok(challenged.length >= 1, "at least one manifest request was challenged");
      assert.equal(new Set(proxy.tokens.map((t) => t.get("scope"))).size, 4);
    });

    it("a token service that wants a login: error without credentials, success with them", async () => {
      proxy = await startProxy(
        registry.host,
        bearerRegistry({ requireLogin: basic("ci", "s3cret") }),
      );
      const denied = await withEnv(
        { REGISTRY_USERNAME: undefined, REGISTRY_PASSWORD: undefined },
        () => run([...base(), "--registry", proxy!.host]),
      );
      assert.equal(denied.code, 1);
      assert.equal(denied.out, "");
      assert.match(
        denied.err,
        /^error: token service http:\/\/127\.0\.0\.1:\d+\/token of registry 127\.0\.0\.1:\d+ refused a token for repository:plan-test\/\w+:pull \(HTTP 401\): log in for 127\.0\.0\.1:\d+ \(REGISTRY_USERNAME and REGISTRY_PASSWORD, docker login, or REGISTRY_AUTH_FILE\)/,
      );
      const allowed = await withEnv({ REGISTRY_USERNAME: "ci", REGISTRY_PASSWORD: "s3cret" }, () =>
        run([...base(), "--registry", proxy!.host, "--json"]),
      );
      assert.equal(allowed.code, 0, allowed.err);
      assert.deepEqual(JSON.parse(allowed.out), expected(proxy.host));
    });

    it("a registry that rejects every token is an auth error, never 'missing'", async () => {
      proxy = await startProxy(registry.host, bearerRegistry({ neverAccept: true }));
      const r = await run([...base(), "--registry", proxy.host]);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        /refused to show plan-test\/\w+:[\w.-]+ \(HTTP 401 even with credentials\)/,
      );
    });
  });

  describe("faults", () => {
    let proxy: Proxy | undefined;
    afterEach(async () => {
      await proxy?.close();
      proxy = undefined;
    });

    it("retries 429 and 503 answers and dropped connections, then succeeds", async () => {
      const seen = new Map<string, number>();
      proxy = await startProxy(registry.host, (req, res, { url, forward }) => {
        const n = (seen.get(url.pathname) ?? 0) + 1;
        seen.set(url.pathname, n);
        if (url.pathname.includes("/manifests/") && n === 1) {
          req.socket.destroy();
        } else if (url.pathname.includes("/manifests/") && n === 2) {
          res.writeHead(429, { "Retry-After": "0" }).end();
        } else if (n <= 2) {
          res.writeHead(503).end();
        } else {
          forward();
        }
      });
      const result = await checkImages(
        images(MANIFEST),
        { kind: "distribution", host: proxy.host },
        { backoffMs: 5 },
      );
      assert.deepEqual(
        result.checks.map((c) => c.status),
        ["present", "missing", "present", "present", "missing", "skipped"],
      );
      assert.equal(seen.get("/v2/"), 3);
      assert.ok([...seen.values()].every((n) => n === 3));
    });

    it("a registry that keeps failing is an error naming the image, after the retries", async () => {
      proxy = await startProxy(registry.host, (_req, res, { url, forward }) => {
        if (url.pathname === "/v2/") {
          forward();
        } else {
          res.writeHead(503).end();
        }
      });
      await assert.rejects(
        checkImages(
          images(MANIFEST),
          { kind: "distribution", host: proxy.host },
          { backoffMs: 5, retries: 2 },
        ),
        (e: unknown) =>
          e instanceof RegistryError &&
          /answered HTTP 503 for HEAD \/v2\/plan-test\/\w+\/manifests\/[\w.-]+ after 3 tries/.test(
            e.message,
          ) &&
          e.image !== undefined,
      );
    });

    it("a registry that is down: exit 1, a clear message, no stack trace (real CLI)", async () => {
      const port = await freePort();
      const r = await cli([...base(), "--registry", `127.0.0.1:${port}`]);
      assert.equal(r.code, 1);
      assert.equal(r.out, "");
      assert.match(
        r.err,
        new RegExp(
          `^error: cannot reach registry 127\\.0\\.0\\.1:${port}: connection refused \\(GET http://127\\.0\\.0\\.1:${port}/v2/\\)\\. Is the registry running`,
        ),
      );
      assert.doesNotMatch(r.err, /\n\s+at /);
    });

    it("a server that is not a registry: exit 1, never 'missing'", async () => {
      proxy = await startProxy(
        registry.host,
        (_req, res) => void res.writeHead(404).end("not here"),
      );
      const r = await run([...base(), "--registry", proxy.host]);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        /answered 404: 127\.0\.0\.1:\d+ does not speak the OCI Distribution API; check the registry address/,
      );
    });
  });

  describe("exit codes", () => {
    it("2 for usage errors (real CLI for one, in-process for the rest)", async () => {
      const spawned = await cli(["plan", "--bogus"]);
      assert.equal(spawned.code, 2);
      assert.equal(
        spawned.err,
        "error: unknown option '--bogus'; see 'model-images plan --help'\n",
      );
      for (const argv of [
        [...base(), "--registry", "http://127.0.0.1:5000"],
        [...base(), "--registry", registry.host, "extra"],
        [...base(), "--stack", "nope"],
        [...base(), "--registry-prefix", "UPPER"],
        [...base(), "--account", "12345"],
        ["plan", "--manifest", manifest, "--insecure"],
      ]) {
        const r = await run(argv);
        assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
        assert.match(r.err, /^error: /);
      }
    });

    it("1 for manifest problems, printed as file:line:col", async () => {
      const bad = path.join(dir, "bad.yaml");
      fs.writeFileSync(bad, MANIFEST.replace('tag: "0.2.0"', "tag: latest"));
      const r = await run(["plan", "--manifest", bad, "--registry", registry.host]);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        new RegExp(`^${bad.replace(/[.]/g, "\\.")}:10:10: tag 'latest' is not allowed`),
      );
      const missing = await run([
        "plan",
        "--manifest",
        path.join(dir, "none.yaml"),
        "--registry",
        registry.host,
      ]);
      assert.equal(missing.code, 1);
      assert.match(missing.err, /none\.yaml: cannot read the manifest: no such file/);
    });
  });

  it("--model narrows the list: a model name takes its variants, an image name one", async () => {
    const r = await run([...base(), "--registry", registry.host, "--model", "gamma", "--json"]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      JSON.parse(r.out).map((e: { name: string }) => e.name),
      ["gamma", "gamma-cuda"],
    );
    const two = await run([
      ...base(),
      "--registry",
      registry.host,
      "--model",
      "gamma-cuda",
      "--model",
      "alpha",
      "--json",
    ]);
    assert.equal(two.code, 0, two.err);
    assert.deepEqual(
      JSON.parse(two.out).map((e: { name: string }) => e.name),
      ["alpha", "gamma-cuda"],
    );
    const unknown = await run([...base(), "--registry", registry.host, "--model", "zeta"]);
    assert.equal(unknown.code, 2);
    assert.equal(
      unknown.err,
      "error: --model zeta is not in the manifest (models: alpha, beta, gamma, delta, epsilon); see 'model-images plan --help'\n",
    );
  });

  it("--fail-on-missing: exit 3 when an image is missing, 0 when none is (same output)", async () => {
    const flags = [...base(), "--registry", registry.host, "--fail-on-missing"];
    const missing = await run([...flags, "--json"]);
    assert.equal(missing.code, 3, missing.err);
    assert.deepEqual(JSON.parse(missing.out), expected(registry.host));
    const present = await run([...flags, "--model", "alpha", "--model", "gamma"]);
    assert.equal(present.code, 0, present.err);
    assert.match(present.out, /3 present, 0 missing, 0 skipped/);
    const spawned = await cli([...flags, "--model", "beta"]);
    assert.equal(spawned.code, 3, spawned.err);
  });

  it("a gated model on a stack without a token: plan lists it with a note, validate refuses", async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "plan-gated-"));
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: model-images\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(project, "Pulumi.ci.yaml"),
      `config:\n  model-images:registryPrefix: ${PREFIX}\n  model-images:requirePinnedRevisions: false\n`,
    );
    const file = path.join(project, "models.yaml");
    fs.writeFileSync(file, MANIFEST.replace(/(name: alpha\n)/, "$1    gated: true\n"));
    try {
      const r = await runCli(["plan", "--stack", "ci", "--registry", registry.host, "--json"], {
        cwd: project,
      });
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(JSON.parse(r.out), expected(registry.host));
      assert.equal(
        r.err,
        "note: alpha is gated and stack 'ci' has no huggingface-token: 'pulumi up' will need it (pulumi config set --secret huggingface-token <token> --stack ci)\n",
      );
      const k = await runCli(["kserve", "--stack", "ci", "--registry", registry.host], {
        cwd: project,
      });
      assert.equal(k.code, 0, k.err);
      assert.match(k.out, /name: alpha\n/);
      const v = await runCli(["validate", "models.yaml", "--stack", "ci"], { cwd: project });
      assert.equal(v.code, 1);
      assert.match(
        v.err,
        /^models\.yaml:\d+:\d+: model 'alpha' is gated but stack 'ci' has no huggingface-token/,
      );
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });

  it("a stack's onlyModels narrows the list exactly as for pulumi up", async function () {
    const narrowed = listStacks(ROOT)
      .map((name) => readStackFile(ROOT, name))
      .find((st) => st.diagnostics.length === 0 && st.settings.onlyModels.trim() !== "");
    if (!narrowed) {
      this.skip();
    }
    const only = narrowed.settings.onlyModels
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== "");
    const file = path.join(dir, "only.yaml");
    fs.writeFileSync(
      file,
      MANIFEST +
        only
          .map((n) => `  - {name: ${n}, source: org/${n}, revision: ${SHA}, tag: "9.9.9"}`)
          .join("\n") +
        "\n",
    );
    const flags = ["--stack", narrowed.settings.stack, "--registry", registry.host];
    const r = await run([
      "plan",
      "--manifest",
      file,
      "--registry-prefix",
      PREFIX,
      "--tag-suffix",
      "",
      ...flags,
      "--json",
    ]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      JSON.parse(r.out).map((e: { model: string }) => e.model),
      only,
    );
    const without = await run([...base(), ...flags]);
    assert.equal(without.code, 1);
    assert.match(
      without.err,
      new RegExp(
        `Pulumi\\.${narrowed.settings.stack}\\.yaml: onlyModels names '${only[0]}', which is not in the manifest`,
      ),
    );
  });

  // Wall-clock time is a benchmark (bench/tagCheck.ts), not a test: on a loaded machine it says
  // nothing. What makes 200 lookups fast is asserted instead: they overlap, never more than the
  // concurrency limit at once, over kept-alive connections (at most one socket per slot).
  it("200 images: bounded concurrency over kept-alive connections", async () => {
    const many = Array.from(
      { length: 100 },
      (_, i) =>
        `  - {name: m${i}, source: org/m${i}, revision: ${SHA}, tag: "0.1.0", variants: [{accelerator: cpu}, {accelerator: cuda}]}`,
    ).join("\n");
    const list = images(`models:\n${many}\n`);
    assert.equal(list.length, 200);
    const proxy = await startProxy(registry.host, (_req, _res, { forward }) => forward());
    try {
      const result = await checkImages(list, { kind: "distribution", host: proxy.host });
      assert.equal(result.checks.filter((c) => c.status === "missing").length, 200);
      const lookups = proxy.hits.filter((h) => h.path.includes("/manifests/")).length;
      assert.equal(lookups, 200, "one manifest request per image");
      assert.ok(proxy.maxInFlight > 1, `lookups overlap (at most ${proxy.maxInFlight} at once)`);
      assert.ok(
        proxy.maxInFlight <= DEFAULT_CONCURRENCY,
        `${proxy.maxInFlight} requests at once, over the limit of ${DEFAULT_CONCURRENCY}`,
      );
      assert.ok(
        proxy.connections <= DEFAULT_CONCURRENCY,
        `${proxy.connections} connections for ${proxy.hits.length} requests: not kept alive`,
      );
    } finally {
      await proxy.close();
    }
  });
});

describe("plan progress line", () => {
  const stream = (isTTY: boolean, chunks: string[]) =>
    ({ isTTY, write: (s: string) => chunks.push(s) > 0 }) as unknown as NodeJS.WritableStream;

  it("appears on a terminal only once checks take over a second, and is cleared", async () => {
    const tty: string[] = [];
    const pipe: string[] = [];
    const onTty = progressLine(stream(true, tty), "checking images");
    const onPipe = progressLine(stream(false, pipe), "checking images");
    onTty.update(1, 10);
    assert.deepEqual(tty, [], "nothing in the first second");
    await new Promise((r) => setTimeout(r, 1050));
    for (const p of [onTty, onPipe]) {
      p.update(5, 10);
      p.update(10, 10);
      p.clear();
      p.clear();
    }
    assert.deepEqual(tty, [
      "\rchecking images 5/10…\x1b[K",
      "\rchecking images 10/10…\x1b[K",
      "\r\x1b[K",
    ]);
    assert.deepEqual(pipe, []);
  });
});
