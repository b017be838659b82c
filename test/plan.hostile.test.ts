// `plan` and `kserve` against hostile servers on loopback: a portal answering HTML to everything,
// answers that are not manifests or digests, silent and trickling servers (Distribution and ECR),
// a token realm on another port, and registry logins from credential helpers and auth files.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkImages, maySendCredentials, RegistryError } from "../lib/registry";
import { findCredentials, normalizeKey } from "../lib/registry/credentials";
import { runCli } from "./support/cli";
import {
  manifestBody,
  OCI_MANIFEST,
  type Server,
  startFakeRegistry,
  startHttp,
  startPortal,
  startSilent,
  startTrickle,
} from "./support/hostile";
import { imagesOf, MANIFEST } from "./support/planCatalog";

const PREFIX = "plan-test";
const ALPHA = manifestBody("sha256:" + "a".repeat(64));

describe("plan and kserve against hostile servers", function () {
  this.timeout(20_000);
  let project: string;
  let dockerConfig: string;
  const servers: Server[] = [];
  const serve = async <S extends Server>(s: Promise<S>): Promise<S> => {
    const started = await s;
    servers.push(started);
    return started;
  };

  before(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "plan-hostile-"));
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: model-images\nruntime: nodejs\n");
    fs.writeFileSync(
      path.join(project, "Pulumi.dev.yaml"),
      `config:\n  aws:region: us-east-1\n  model-images:registryPrefix: ${PREFIX}\n  model-images:requirePinnedRevisions: false\n`,
    );
    fs.writeFileSync(path.join(project, "models.yaml"), MANIFEST);
    dockerConfig = path.join(project, "docker");
    fs.mkdirSync(dockerConfig);
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  /** The environment of a run: no logins but the ones a test gives. */
  function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const e: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dockerConfig, ...extra };
    for (const k of ["REGISTRY_USERNAME", "REGISTRY_PASSWORD", "REGISTRY_AUTH_FILE"]) {
      if (!(k in extra)) {
        delete e[k];
      }
    }
    return e;
  }
  const run = (argv: string[], extra: Record<string, string> = {}) =>
    runCli(argv, { cwd: project, env: env(extra) });

  describe("a host that is not a registry is an error, never 'present'", () => {
    it("HTML for everything: plan and kserve --pin-digest exit 1 naming the host and the missing header", async () => {
      const portal = await serve(startPortal());
      const want = new RegExp(
        `^error: ${portal.host.replace(/\./g, "\\.")} is not an OCI registry: GET http://${portal.host.replace(/\./g, "\\.")}/v2/ answered 200 \\(text/html\\) without the header 'Docker-Distribution-API-Version: registry/2\\.0'`,
      );
      for (const argv of [
        ["plan", "--registry", portal.host],
        ["plan", "--registry", portal.host, "--json"],
        ["kserve", "--registry", portal.host, "--pin-digest"],
      ]) {
        const r = await run(argv);
        assert.equal(r.code, 1, `${argv.join(" ")}: ${r.err}`);
        assert.equal(r.out, "");
        assert.match(r.err, want);
      }
    });

    const cases: {
      name: string;
      headers: (digest: string) => Record<string, string>;
      error: RegExp;
    }[] = [
      {
        name: "a manifest answer that is an HTML page",
        headers: (d) => ({ "Content-Type": "text/html", "Docker-Content-Digest": d }),
        error:
          /answered HEAD \/v2\/plan-test\/alpha\/manifests\/0\.1\.0 with 200 but Content-Type "text\/html", not a manifest media type/,
      },
      {
        name: "a manifest answer without a Content-Type",
        headers: (d) => ({ "Docker-Content-Digest": d }),
        error: /with 200 but Content-Type "", not a manifest media type/,
      },
      {
        name: "a digest that is not sha256:<64 hex>",
        headers: () => ({ "Content-Type": OCI_MANIFEST, "Docker-Content-Digest": "sha256:abc" }),
        error:
          /gave plan-test\/alpha:0\.1\.0 the digest "sha256:abc", which is not sha256:<64 hex> or sha512:<128 hex>/,
      },
      {
        name: "an upper-case digest",
        headers: (d) => ({
          "Content-Type": OCI_MANIFEST,
          "Docker-Content-Digest": d.toUpperCase(),
        }),
        error: /which is not sha256:<64 hex>/,
      },
      {
        name: "a digest of another algorithm",
        headers: () => ({
          "Content-Type": OCI_MANIFEST,
          "Docker-Content-Digest": "md5:d41d8cd98f00b204e9800998ecf8427e",
        }),
        error: /the digest "md5:d41d8cd98f00b204e9800998ecf8427e", which is not/,
      },
    ];
    for (const c of cases) {
      it(`${c.name}: exit 1, never pinned`, async () => {
        const reg = await serve(
          startFakeRegistry({
            images: { [`${PREFIX}/alpha:0.1.0`]: ALPHA.body },
            manifestHeaders: c.headers,
          }),
        );
        const r = await run(["kserve", "--registry", reg.host, "--model", "alpha", "--pin-digest"]);
        assert.equal(r.code, 1, r.err);
        assert.equal(r.out, "");
        assert.match(r.err, new RegExp(`^error: registry ${reg.host.replace(/\./g, "\\.")} `));
        assert.match(r.err, c.error);
      });
    }

    it("without Docker-Content-Digest the digest is the hash of the manifest bytes; a GET header that disagrees is an error", async () => {
      let lie = false;
      const reg = await serve(
        startHttp((req, res, url) => {
          const version = { "Docker-Distribution-API-Version": "registry/2.0" };
          if (url.pathname === "/v2/") {
            res.writeHead(200, version).end();
          } else if (url.pathname === `/v2/${PREFIX}/alpha/manifests/0.1.0`) {
            const extra =
              req.method === "GET" && lie
                ? { "Docker-Content-Digest": `sha256:${"0".repeat(64)}` }
                : {};
            res.writeHead(200, { ...version, "Content-Type": OCI_MANIFEST, ...extra });
            res.end(req.method === "HEAD" ? undefined : ALPHA.body);
          } else {
            res.writeHead(404, version).end();
          }
        }),
      );
      const ok = await run(["plan", "--registry", reg.host, "--model", "alpha", "--json"]);
      assert.equal(ok.code, 0, ok.err);
      assert.equal(JSON.parse(ok.out)[0].digest, ALPHA.digest);
      lie = true;
      const bad = await run(["plan", "--registry", reg.host, "--model", "alpha"]);
      assert.equal(bad.code, 1);
      assert.match(
        bad.err,
        new RegExp(`the digest sha256:0{64}, but the manifest it sent hashes to ${ALPHA.digest}`),
      );
    });

    it("a registry that answers as the spec says is still believed (present, missing)", async () => {
      const reg = await serve(
        startFakeRegistry({ images: { [`${PREFIX}/alpha:0.1.0`]: ALPHA.body } }),
      );
      const r = await run([
        "plan",
        "--registry",
        reg.host,
        "--model",
        "alpha",
        "--model",
        "beta",
        "--json",
      ]);
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(
        JSON.parse(r.out).map((e: { status: string; digest?: string }) => [e.status, e.digest]),
        [
          ["present", ALPHA.digest],
          ["missing", undefined],
        ],
      );
    });
  });

  describe("every command ends", () => {
    it("a silent registry: --timeout 1 ends plan in about a second, naming the host", async () => {
      const silent = await serve(startSilent());
      const started = Date.now();
      const r = await run(["plan", "--registry", silent.host, "--timeout", "1"]);
      const ms = Date.now() - started;
      assert.equal(r.code, 1, r.err);
      assert.equal(
        r.err,
        `error: ${silent.host} did not answer GET http://${silent.host}/v2/ within the 1 s --timeout; check the network path to ${silent.host}, or allow more time\n`,
      );
      assert.ok(ms >= 900 && ms < 3000, `${ms} ms`);
    });

    it("a trickling registry: --timeout ends kserve --pin-digest though bytes keep coming", async () => {
      const trickle = await serve(startTrickle(50));
      const started = Date.now();
      const r = await run([
        "kserve",
        "--pin-digest",
        "--registry",
        trickle.host,
        "--timeout",
        "1.5",
      ]);
      assert.equal(r.code, 1, r.err);
      assert.match(
        r.err,
        new RegExp(
          `^error: ${trickle.host.replace(/\./g, "\\.")} did not answer GET .* within the 1\\.5 s --timeout`,
        ),
      );
      assert.ok(Date.now() - started < 3500, `${Date.now() - started} ms`);
    });

    it("each request has a wall-clock limit: a trickle trips it though it is never silent", async () => {
      const trickle = await serve(startTrickle(50));
      const started = Date.now();
      await assert.rejects(
        checkImages(
          imagesOf(MANIFEST, PREFIX),
          { kind: "distribution", host: trickle.host },
          {
            timeoutMs: 400,
            retries: 1,
            backoffMs: 10,
          },
        ),
        (e: unknown) =>
          e instanceof RegistryError &&
          e.message ===
            `${trickle.host} did not finish answering within 0.4 s after 2 tries (GET http://${trickle.host}/v2/; it sends, but too slowly); check the network path to the registry`,
      );
      const ms = Date.now() - started;
      assert.ok(ms >= 800 && ms < 2500, `${ms} ms`);
    });

    describe("the ECR path", () => {
      let saved: NodeJS.ProcessEnv;
      beforeEach(() => {
        saved = { ...process.env };
      });
      afterEach(() => {
        for (const k of Object.keys(process.env)) {
          if (!(k in saved)) {
            delete process.env[k];
          }
        }
        Object.assign(process.env, saved);
      });
      const useEndpoint = (host: string) =>
        Object.assign(process.env, {
          AWS_ENDPOINT_URL_ECR: `http://${host}`,
          AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
          AWS_SECRET_ACCESS_KEY: "secret",
          AWS_REGION: "us-east-1",
        });

      it("a silent ECR endpoint: --timeout 1 ends plan, naming the endpoint host", async () => {
        const silent = await serve(startSilent());
        useEndpoint(silent.host);
        const started = Date.now();
        const r = await run(["plan", "--timeout", "1"]);
        assert.equal(r.code, 1, r.err);
        assert.equal(
          r.err,
          `error: ECR (${silent.host}, us-east-1) did not answer within the 1 s --timeout; check the network path to ${silent.host} (and AWS_ENDPOINT_URL_ECR if set), or allow more time\n`,
        );
        const ms = Date.now() - started;
        assert.ok(ms >= 900 && ms < 4000, `${ms} ms`);
      });

      it("each ECR request has a limit too: a silent endpoint fails after the retries", async () => {
        const silent = await serve(startSilent());
        useEndpoint(silent.host);
        const started = Date.now();
        await assert.rejects(
          checkImages(
            imagesOf(MANIFEST, PREFIX),
            { kind: "ecr", region: "us-east-1" },
            {
              timeoutMs: 300,
              retries: 1,
            },
          ),
          (e: unknown) =>
            e instanceof RegistryError &&
            e.message.startsWith(
              `cannot reach ECR at ${silent.host} in us-east-1 (endpoint http://${silent.host})`,
            ),
        );
        assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
      });
    });
  });

  describe("credentials go only where they belong", () => {
    it("maySendCredentials: HTTPS realms; plain HTTP only to the registry's own plain-HTTP origin", () => {
      const table: [string, string, boolean][] = [
        ["https://r.example", "https://auth.example/token", true],
        ["http://127.0.0.1:5000", "https://auth.example/token", true],
        ["http://127.0.0.1:5000", "http://127.0.0.1:5000/token", true],
        ["http://127.0.0.1:5000", "http://127.0.0.1:5001/token", false],
        ["http://r.example", "http://auth.example/token", false],
        ["https://r.example", "http://r.example/token", false],
        ["https://r.example", "ftp://r.example/token", false],
      ];
      for (const [registry, realm, ok] of table) {
        assert.equal(
          maySendCredentials(new URL(registry), new URL(realm)),
          ok,
          `${registry} → ${realm}`,
        );
      }
    });

    it("a token realm on another port over HTTP never sees the login; its refusal says why", async () => {
      let anonymousOk = false;
      const tokens = await serve(
        startHttp((_req, res) => {
          if (anonymousOk) {
            res.writeHead(200, { "Content-Type": "application/json" });
            res.end('{"token":"anon"}');
          } else {
            res.writeHead(401).end();
          }
        }),
      );
      const reg = await serve(
        startFakeRegistry({
          images: { [`${PREFIX}/alpha:0.1.0`]: ALPHA.body },
          bearerRealm: `http://${tokens.host}/token`,
        }),
      );
      const login = { REGISTRY_USERNAME: "ci", REGISTRY_PASSWORD: "s3cret-pw" };
      const refused = await run(["plan", "--registry", reg.host, "--model", "alpha"], login);
      assert.equal(refused.code, 1);
      assert.ok(tokens.requests.length > 0, "the token service was asked");
      assert.ok(
        tokens.requests.every((t) => t.auth === undefined),
        "no Authorization to the realm",
      );
      assert.match(
        refused.err,
        new RegExp(
          `refused a token .*: the login from REGISTRY_USERNAME/REGISTRY_PASSWORD was not sent to http://${tokens.host.replace(/\./g, "\\.")}: credentials go over plain HTTP only to the registry's own origin`,
        ),
      );
      assert.doesNotMatch(refused.err, /s3cret-pw/);
      anonymousOk = true;
      const anonymous = await run(
        ["plan", "--registry", reg.host, "--model", "alpha", "--json"],
        login,
      );
      assert.equal(anonymous.code, 0, anonymous.err);
      assert.equal(JSON.parse(anonymous.out)[0].status, "present");
      assert.ok(tokens.requests.every((t) => t.auth === undefined));
    });
  });

  describe("registry logins as other tools read them", () => {
    let bin: string;
    let helperLog: string;
    before(() => {
      bin = path.join(project, "bin");
      fs.mkdirSync(bin);
      helperLog = path.join(project, "helper.log");
      // A fake credential helper: records the server it was asked for, knows one login.
      fs.writeFileSync(
        path.join(bin, "docker-credential-fake"),
        `#!/bin/sh
read server
echo "$1 $server" >> "${helperLog}"
if [ -n "$FAKE_HELPER_HANG" ]; then exec sleep 30; fi
case "$server" in
  127.0.0.1:*) echo '{"ServerURL":"'"$server"'","Username":"helper-user","Secret":"helper-pw"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
        { mode: 0o755 },
      );
    });
    beforeEach(() => {
      fs.rmSync(helperLog, { force: true });
      fs.rmSync(path.join(dockerConfig, "config.json"), { force: true });
    });
    const withHelper = (extra: Record<string, string> = {}) => ({
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      ...extra,
    });
    const writeDocker = (config: object) =>
      fs.writeFileSync(path.join(dockerConfig, "config.json"), JSON.stringify(config));

    it("credHelpers: plan asks docker-credential-<name> for the host and logs in with its answer", async () => {
      const reg = await serve(
        startFakeRegistry({
          images: { [`${PREFIX}/alpha:0.1.0`]: ALPHA.body },
          basic: "helper-user:helper-pw",
        }),
      );
      const denied = await run(["plan", "--registry", reg.host, "--model", "alpha"], withHelper());
      assert.equal(denied.code, 1);
      assert.match(denied.err, /requires a login \(HTTP 401, Basic\)/);
      writeDocker({ credHelpers: { [reg.host]: "fake" } });
      const r = await run(
        ["plan", "--registry", reg.host, "--model", "alpha", "--json"],
        withHelper(),
      );
      assert.equal(r.code, 0, r.err);
      assert.equal(JSON.parse(r.out)[0].digest, ALPHA.digest);
      assert.equal(fs.readFileSync(helperLog, "utf8"), `get ${reg.host}\n`);
    });

    it("credsStore serves every host; auths entries (auth or username/password) work without a helper", async () => {
      const reg = await serve(
        startFakeRegistry({
          images: { [`${PREFIX}/alpha:0.1.0`]: ALPHA.body },
          basic: "helper-user:helper-pw",
        }),
      );
      writeDocker({ credsStore: "fake", auths: { [reg.host]: {} } });
      const store = await run(["plan", "--registry", reg.host, "--model", "alpha"], withHelper());
      assert.equal(store.code, 0, store.err);
      const auth = Buffer.from("helper-user:helper-pw").toString("base64");
      writeDocker({ auths: { [`https://${reg.host}`]: { auth } } });
      const file = await run(["plan", "--registry", reg.host, "--model", "alpha"]);
      assert.equal(file.code, 0, file.err);
    });

    it("REGISTRY_AUTH_FILE comes before Docker's config; REGISTRY_USERNAME before both", async () => {
      const reg = await serve(
        startFakeRegistry({
          images: { [`${PREFIX}/alpha:0.1.0`]: ALPHA.body },
          basic: "auth-file:pw",
        }),
      );
      const authFile = path.join(project, "auth.json");
      fs.writeFileSync(
        authFile,
        JSON.stringify({
          auths: { [reg.host]: { auth: Buffer.from("auth-file:pw").toString("base64") } },
        }),
      );
      writeDocker({
        auths: { [reg.host]: { auth: Buffer.from("docker:wrong").toString("base64") } },
      });
      const r = await run(["plan", "--registry", reg.host, "--model", "alpha"], {
        REGISTRY_AUTH_FILE: authFile,
      });
      assert.equal(r.code, 0, r.err);
      const first = await findCredentials(
        reg.host,
        env({ REGISTRY_AUTH_FILE: authFile, REGISTRY_USERNAME: "u", REGISTRY_PASSWORD: "p" }),
      );
      assert.deepEqual(first, {
        username: "u",
        password: "p",
        source: "REGISTRY_USERNAME/REGISTRY_PASSWORD",
      });
      const docker = await findCredentials(reg.host, env());
      assert.equal(docker?.username, "docker");
      assert.match(docker?.source ?? "", /docker\/config\.json$/);
    });

    it("a helper that is not installed, or a broken file, is an error naming the file, never anonymous", async () => {
      writeDocker({ credHelpers: { "127.0.0.1:1": "absent" } });
      const r = await run(["plan", "--registry", "127.0.0.1:1"]);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        /names the credential helper 'absent', but docker-credential-absent is not on PATH/,
      );
      fs.writeFileSync(path.join(dockerConfig, "config.json"), "{not json");
      const broken = await run(["plan", "--registry", "127.0.0.1:1"]);
      assert.equal(broken.code, 1);
      assert.match(broken.err, /config\.json is not valid JSON; fix or remove it/);
    });

    it("a credential helper that never answers is bounded by --timeout", async () => {
      writeDocker({ credHelpers: { "127.0.0.1:1": "fake" } });
      const started = Date.now();
      const r = await run(
        ["plan", "--registry", "127.0.0.1:1", "--timeout", "1"],
        withHelper({ FAKE_HELPER_HANG: "1" }),
      );
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        /^error: docker-credential-fake get did not answer for 127\.0\.0\.1:1 within the 1 s --timeout \(.*config\.json \(credHelpers: fake\)\)\n$/,
      );
      assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
    });

    it("config keys name hosts the way docker writes them", () => {
      assert.equal(normalizeKey("https://index.docker.io/v1/"), "docker.io");
      assert.equal(normalizeKey("registry-1.docker.io"), "docker.io");
      assert.equal(normalizeKey("https://GHCR.io"), "ghcr.io");
      assert.equal(normalizeKey("127.0.0.1:5000"), "127.0.0.1:5000");
    });
  });
});
