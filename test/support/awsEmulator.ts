// A loopback HTTP emulator of the ECR and CodeBuild JSON APIs, scriptable per test, with fault injection.
//
// Why: the dynamic provider and the `plan` CLI talk to AWS through the real SDK v3. Pointing the
// SDK at this server (the standard AWS_ENDPOINT_URL_<SERVICE> variables) tests the real request
// shapes, retries and error parsing without AWS.
//
// API for test writers
// --------------------
//   const emu = await startAwsEmulator();        // listens on 127.0.0.1:<random port>
//   const restore = emu.useForSdk();             // sets AWS_ENDPOINT_URL_ECR/_CODEBUILD + dummy creds
//   ...; restore();                              // puts process.env back as it was
//   emu.reset();                                 // empty state, requests, faults (between tests)
//   await emu.close();
//
// State (plain, inspectable):
//   emu.addRepository("kserve-models/llama", { "1.0": "sha256:…" })   repositories → tags → digests
//   emu.putImage(repo, tag, digest?) → digest;  emu.deleteImage(repo, tag);  emu.digestOf(repo, tag)
//   emu.failImage(repo, tag, "KmsError", "reason")   BatchGetImage reports that failure for the tag
//   emu.addProject("model-llama-cpu", { repository: "kserve-models/llama", statuses: [...] })
//       the script every StartBuild of that project follows (see ProjectScript)
//   emu.addBuild("model-llama-cpu", { imageTag: "1.0", statuses: ["IN_PROGRESS"] }) → build id
//       a build that already exists (started by an earlier, interrupted run)
//   emu.builds(project?) → EmulatedBuild[]   every build, oldest first
//   emu.finishBuild(id, "SUCCEEDED")   end a running build now (it pushes on SUCCEEDED, as a poll would)
//
// Builds: each BatchGetBuilds that returns a build advances it one step through its `statuses`
// (StartBuild itself answers IN_PROGRESS); the last status sticks. On SUCCEEDED the build pushes
// `<repository>:<IMAGE_TAG>` (IMAGE_TAG from environmentVariablesOverride) unless the script says
// `push: false`; `imageDelay: n` hides the pushed tag from the next n BatchGetImage lookups. A build
// that pushed reports IMAGE_URI and IMAGE_DIGEST in exportedEnvironmentVariables, as buildspec.yml
// exports them (unless `exportDigest: false`). A project that `signs` (signing: cosign-kms) also
// pushes cosign's `sha256-<hex>.sig` tag for the digest; a build started with the SIGN_ONLY_DIGEST
// override pushes no image: on SUCCEEDED it signs that digest (when the project signs) and exports
// it, as buildspec.yml does.
// StartBuild honours idempotencyToken like CodeBuild: same token + same parameters → same build;
// same token + different parameters → InvalidInputException.
//
// Faults: emu.inject("BatchGetBuilds", { kind: "throttle" }, 2) applies to the next 2 calls of that
// operation. Kinds: throttle (400 ThrottlingException), http500, drop (socket destroyed before the
// handler runs), dropAfter (the handler runs, changes state, then the socket is destroyed: a lost
// response), error (any AWS error type/status), delay (ms, then normal handling).
//
// Build slots: a project script's `concurrentBuildLimit: n` makes StartBuild answer
// AccountLimitExceededException while n builds of the project are IN_PROGRESS (CodeBuild: "If the
// build project has a concurrent build limit set, builds return an error if the number of running
// builds reaches the concurrent build limit for the project"); emu.fillAccountQueue(n) answers the
// next n StartBuild calls that would start a build the same way, as a full account queue does
// ("Cannot have more than 1 builds in queue for the account"). A repeated idempotency token is
// answered with its build first, as CodeBuild does.
//
// Identity: every request records the access key id that signed it (`accessKeyId`, from the SigV4
// Authorization header). STS AssumeRole (awsQuery, AWS_ENDPOINT_URL_STS) is answered with
// temporary credentials whose key id is emu.roleAccessKeyId(roleArn); emu.calls("AssumeRole")
// shows RoleArn, RoleSessionName and ExternalId.
//
// Requests: emu.requests is every request in arrival order ({ service, operation, body, fault? });
// emu.calls("StartBuild") filters by operation (faulted ones included, `fault` says which).
//
// Extending: emu.route("AmazonEC2ContainerRegistry_V20150921.ListImages", (body, emu) => ({...}))
// adds or overrides an operation (keyed by X-Amz-Target); throw `new AwsError(type, message)` for an
// error response. Built in: ECR BatchGetImage (≤100 ids, like ECR), DescribeRepositories,
// DescribeImages, BatchDeleteImage; CodeBuild StartBuild, BatchGetBuilds, ListBuildsForProject,
// StopBuild. Unknown targets answer 400 UnknownOperationException so a missing handler is loud.
import { createHash, randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export type BuildStatus =
  "IN_PROGRESS" | "SUCCEEDED" | "FAILED" | "FAULT" | "TIMED_OUT" | "STOPPED";

/** What a build of a project does; every StartBuild of the project follows it. */
export interface ProjectScript {
  /** Repository the build pushes to on SUCCEEDED. */
  repository: string;
  /** Statuses returned by successive BatchGetBuilds calls; default IN_PROGRESS, SUCCEEDED. */
  statuses?: BuildStatus[];
  /** Digest pushed on success; default derived from the build id. */
  digest?: string;
  /** Push the tag on SUCCEEDED (default true); false models a buildspec that pushed elsewhere. */
  push?: boolean;
  /**
   * Export IMAGE_URI and IMAGE_DIGEST after the push, as buildspec.yml does (default true); false
   * models a buildspec without exported-variables.
   */
  exportDigest?: boolean;
  /** Sign what the build pushes (or SIGN_ONLY_DIGEST): push cosign's `sha256-<hex>.sig` tag. */
  signs?: boolean;
  /** Hide the pushed tag from this many BatchGetImage lookups (ECR's read-after-write lag). */
  imageDelay?: number;
  /** Phase that fails on FAILED/FAULT/TIMED_OUT/STOPPED (default BUILD) and its context. */
  failure?: { phase?: string; statusCode?: string; message?: string };
  /** Omit logs.deepLink (the provider must build the console URL itself). */
  noDeepLink?: boolean;
  /** Variables the project itself defines (they appear in the build's environment). */
  projectEnvironment?: { name: string; value: string; type?: string }[];
  /** The project's concurrentBuildLimit: StartBuild is refused while this many builds run. */
  concurrentBuildLimit?: number;
}

export interface EmulatedBuild {
  id: string;
  arn: string;
  buildNumber: number;
  projectName: string;
  script: ProjectScript;
  /** Index of the next status BatchGetBuilds will report; -1 before the first poll. */
  step: number;
  status: BuildStatus;
  environmentVariables: { name: string; value: string; type: string }[];
  sourceVersion?: string;
  idempotencyToken?: string;
  startTime: number;
  pushed: boolean;
  /** The digest this build pushed, once it has. */
  pushedDigest?: string;
}

export type Fault =
  | { kind: "throttle" }
  | { kind: "http500" }
  | { kind: "drop" }
  | { kind: "dropAfter" }
  | { kind: "error"; type: string; message?: string; status?: number }
  | { kind: "delay"; ms: number };

export interface ImageId {
  imageTag?: string;
  imageDigest?: string;
}

/** The request fields the built-in handlers read (awsJson bodies of the operations above). */
export interface RequestBody {
  registryId?: string;
  repositoryName?: string;
  repositoryNames?: string[];
  imageIds?: ImageId[];
  acceptedMediaTypes?: string[];
  projectName?: string;
  sourceVersion?: string;
  idempotencyToken?: string;
  environmentVariablesOverride?: { name: string; value: string; type?: string }[];
  ids?: string[];
  id?: string;
  sortOrder?: string;
  nextToken?: string;
  [field: string]: unknown;
}

interface ImageFailure {
  imageId: ImageId;
  failureCode: string;
  failureReason: string;
}

export interface RecordedRequest {
  /** "ecr" | "codebuild" | the target prefix for anything else. */
  service: string;
  operation: string;
  target: string;
  body: RequestBody;
  /** The fault applied to this request, if any. */
  fault?: Fault["kind"];
  /** The access key id that signed the request (SigV4 Authorization header). */
  accessKeyId?: string;
}

export type Handler = (body: RequestBody, emu: AwsEmulator) => unknown | Promise<unknown>;

/** Throw from a handler to answer with an AWS JSON error. */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const ECR = "AmazonEC2ContainerRegistry_V20150921";
const STS = "STS";
const CODEBUILD = "CodeBuild_20161006";
const SERVICE_OF: Record<string, string> = {
  [ECR]: "ecr",
  [CODEBUILD]: "codebuild",
  [STS]: "sts",
};

const PHASES = [
  "SUBMITTED",
  "QUEUED",
  "PROVISIONING",
  "DOWNLOAD_SOURCE",
  "INSTALL",
  "PRE_BUILD",
  "BUILD",
  "POST_BUILD",
  "UPLOAD_ARTIFACTS",
  "FINALIZING",
  "COMPLETED",
];

export class AwsEmulator {
  readonly accountId = "123456789012";
  readonly region = "us-east-1";
  url = "";
  port = 0;
  requests: RecordedRequest[] = [];
  repositories = new Map<string, Map<string, string>>();
  imageFailures = new Map<string, { code: string; reason: string }>();
  hiddenImages = new Map<string, number>();
  projects = new Map<string, ProjectScript>();
  private buildList: EmulatedBuild[] = [];
  private accountQueueFull = 0;
  private tokens = new Map<string, { buildId: string; params: string }>();
  private faults = new Map<string, Fault[]>();
  private handlers = new Map<string, Handler>();
  private server: http.Server;

  constructor() {
    this.server = http.createServer((req, res) => void this.serve(req, res));
    this.installDefaults();
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Point the AWS SDK of this process at the emulator; returns a function restoring process.env. */
  useForSdk(): () => void {
    const values: Record<string, string | undefined> = {
      ...this.sdkEnv(),
      // Removed, so a developer's own profile or session cannot leak into a test.
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_ENDPOINT_URL: undefined,
    };
    const saved: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(values)) {
      saved[k] = process.env[k];
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
    return () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) {
          delete process.env[k];
        } else {
          process.env[k] = v;
        }
      }
    };
  }

  /** The variables `useForSdk` sets, for a child process's env. */
  sdkEnv(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_ECR: this.url,
      AWS_ENDPOINT_URL_CODEBUILD: this.url,
      AWS_ENDPOINT_URL_STS: this.url,
      AWS_ACCESS_KEY_ID: "AKIDEMULATOR",
      AWS_SECRET_ACCESS_KEY: "emulator-secret-key",
      AWS_REGION: this.region,
      AWS_EC2_METADATA_DISABLED: "true",
    };
  }

  reset(): void {
    this.requests = [];
    this.repositories.clear();
    this.imageFailures.clear();
    this.hiddenImages.clear();
    this.projects.clear();
    this.buildList = [];
    this.accountQueueFull = 0;
    this.tokens.clear();
    this.faults.clear();
    this.handlers.clear();
    this.installDefaults();
  }

  // ---- scripting -------------------------------------------------------------------------

  route(target: string, handler: Handler): void {
    this.handlers.set(target, handler);
  }

  inject(operation: string, fault: Fault, times = 1): void {
    const queue = this.faults.get(operation) ?? [];
    for (let i = 0; i < times; i++) {
      queue.push(fault);
    }
    this.faults.set(operation, queue);
  }

  calls(operation: string): RecordedRequest[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  addRepository(name: string, tags: Record<string, string> = {}): void {
    this.repositories.set(name, new Map(Object.entries(tags)));
  }

  putImage(repository: string, tag: string, digest?: string): string {
    const repo = this.repositories.get(repository);
    if (!repo) {
      throw new Error(`emulator: no repository ${repository}`);
    }
    const d =
      digest ?? `sha256:${createHash("sha256").update(`${repository}:${tag}`).digest("hex")}`;
    repo.set(tag, d);
    return d;
  }

  deleteImage(repository: string, tag: string): void {
    this.repositories.get(repository)?.delete(tag);
  }

  digestOf(repository: string, tag: string): string | undefined {
    return this.repositories.get(repository)?.get(tag);
  }

  failImage(repository: string, tag: string, code: string, reason: string): void {
    this.imageFailures.set(`${repository}:${tag}`, { code, reason });
  }

  /** The next `attempts` StartBuild calls that would start a build find the account queue full. */
  fillAccountQueue(attempts: number): void {
    this.accountQueueFull = attempts;
  }

  /** The access key id of the temporary credentials AssumeRole hands out for `roleArn`. */
  roleAccessKeyId(roleArn: string): string {
    return `ASIA${createHash("sha256").update(roleArn).digest("hex").slice(0, 16).toUpperCase()}`;
  }

  addProject(name: string, script: ProjectScript): void {
    this.projects.set(name, script);
  }

  /** A build that already exists (e.g. started by an interrupted run); returns its id. */
  addBuild(
    projectName: string,
    opts: {
      imageTag: string;
      statuses: BuildStatus[];
      script?: Partial<ProjectScript>;
      /** Further overrides the build was started with, and its source version. */
      environment?: Record<string, string>;
      sourceVersion?: string;
    },
  ): string {
    const base = this.projects.get(projectName);
    if (!base) {
      throw new Error(`emulator: no project ${projectName}`);
    }
    const script = { ...base, ...opts.script, statuses: opts.statuses };
    const overrides = Object.entries(opts.environment ?? {}).map(([name, value]) => ({
      name,
      value,
      type: "PLAINTEXT",
    }));
    return this.newBuild(
      projectName,
      script,
      [{ name: "IMAGE_TAG", value: opts.imageTag, type: "PLAINTEXT" }, ...overrides],
      opts.sourceVersion,
    ).id;
  }

  /** End a running build now (another team's build finishing, or an operator's stop-build). */
  finishBuild(id: string, status: Exclude<BuildStatus, "IN_PROGRESS">): void {
    const build = this.buildList.find((b) => b.id === id);
    if (!build) {
      throw new Error(`emulator: no build ${id}`);
    }
    build.script = { ...build.script, statuses: [status] };
    build.step = -1;
    this.advance(build);
  }

  builds(projectName?: string): EmulatedBuild[] {
    return this.buildList.filter((b) => projectName === undefined || b.projectName === projectName);
  }

  // ---- HTTP ----------------------------------------------------------------------------

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) {
      chunks.push(c as Buffer);
    }
    const raw = Buffer.concat(chunks).toString("utf8");
    let target = String(req.headers["x-amz-target"] ?? "");
    let body: RequestBody;
    if (!target && /x-www-form-urlencoded/.test(String(req.headers["content-type"] ?? ""))) {
      // awsQuery (STS): the operation is the Action form field.
      body = Object.fromEntries(new URLSearchParams(raw)) as RequestBody;
      target = `${STS}.${String(body.Action ?? "")}`;
    } else {
      try {
        body = raw ? (JSON.parse(raw) as RequestBody) : {};
      } catch {
        body = { unparsed: raw };
      }
    }
    const [prefix, operation = target] = target.split(".");
    const signer = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ""))?.[1];
    const record: RecordedRequest = {
      service: SERVICE_OF[prefix] ?? prefix,
      operation,
      target,
      body,
      ...(signer ? { accessKeyId: signer } : {}),
    };
    this.requests.push(record);

    const fault = this.faults.get(operation)?.shift();
    if (fault) {
      record.fault = fault.kind;
      switch (fault.kind) {
        case "throttle":
          return this.sendError(res, new AwsError("ThrottlingException", "Rate exceeded"));
        case "http500":
          return this.sendError(res, new AwsError("ServerException", "Internal server error", 500));
        case "drop":
          req.socket.destroy();
          return;
        case "error":
          return this.sendError(
            res,
            new AwsError(fault.type, fault.message ?? fault.type, fault.status ?? 400),
          );
        case "delay":
          await new Promise((r) => setTimeout(r, fault.ms));
          break;
        case "dropAfter":
          break;
      }
    }

    const handler = this.handlers.get(target);
    if (!handler) {
      return this.sendError(
        res,
        new AwsError("UnknownOperationException", `emulator: no handler for ${target}`),
      );
    }
    try {
      const result = await handler(body, this);
      if (fault?.kind === "dropAfter") {
        req.socket.destroy();
        return;
      }
      const xml = prefix === STS;
      const text = xml ? String(result) : JSON.stringify(result ?? {});
      res.writeHead(200, {
        "Content-Type": xml ? "text/xml" : "application/x-amz-json-1.1",
        "x-amzn-RequestId": randomUUID(),
        "Content-Length": Buffer.byteLength(text),
      });
      res.end(text);
    } catch (e) {
      if (e instanceof AwsError) {
        return this.sendError(res, e);
      }
      return this.sendError(
        res,
        new AwsError("ServerException", `emulator bug: ${String(e)}`, 500),
      );
    }
  }

  private sendError(res: http.ServerResponse, e: AwsError): void {
    const text = JSON.stringify({ __type: e.type, message: e.message });
    if (res.req.headers["x-amz-target"] === undefined) {
      // awsQuery error document.
      const xml = `<ErrorResponse><Error><Type>Sender</Type><Code>${e.type}</Code><Message>${e.message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
      res.writeHead(e.status, {
        "Content-Type": "text/xml",
        "Content-Length": Buffer.byteLength(xml),
      });
      res.end(xml);
      return;
    }
    res.writeHead(e.status, {
      "Content-Type": "application/x-amz-json-1.1",
      "x-amzn-ErrorType": e.type,
      "x-amzn-RequestId": randomUUID(),
      "Content-Length": Buffer.byteLength(text),
    });
    res.end(text);
  }

  // ---- built-in operations ---------------------------------------------------------------

  private installDefaults(): void {
    this.route(`${ECR}.BatchGetImage`, (b) => this.batchGetImage(b));
    this.route(`${ECR}.DescribeRepositories`, (b) => this.describeRepositories(b));
    this.route(`${ECR}.DescribeImages`, (b) => this.describeImages(b));
    this.route(`${ECR}.BatchDeleteImage`, (b) => this.batchDeleteImage(b));
    this.route(`${CODEBUILD}.StartBuild`, (b) => this.startBuild(b));
    this.route(`${CODEBUILD}.BatchGetBuilds`, (b) => this.batchGetBuilds(b));
    this.route(`${CODEBUILD}.ListBuildsForProject`, (b) => this.listBuildsForProject(b));
    this.route(`${CODEBUILD}.StopBuild`, (b) => this.stopBuild(b));
    this.route(`${STS}.AssumeRole`, (b) => this.assumeRole(b));
  }

  private assumeRole(body: RequestBody): string {
    const roleArn = String(body.RoleArn ?? "");
    const session = String(body.RoleSessionName ?? "");
    if (!/^arn:aws:iam::\d{12}:role\/.+$/.test(roleArn) || session === "") {
      throw new AwsError("ValidationError", "RoleArn and RoleSessionName are required");
    }
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    const role = roleArn.split("/").pop();
    return [
      '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>',
      `<Credentials><AccessKeyId>${this.roleAccessKeyId(roleArn)}</AccessKeyId><SecretAccessKey>emulator-role-secret</SecretAccessKey><SessionToken>emulator-session-token</SessionToken><Expiration>${expiration}</Expiration></Credentials>`,
      `<AssumedRoleUser><AssumedRoleId>AROAEMULATOR:${session}</AssumedRoleId><Arn>arn:aws:sts::${roleArn.split(":")[4]}:assumed-role/${role}/${session}</Arn></AssumedRoleUser>`,
      `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
    ].join("");
  }

  private repo(body: RequestBody): Map<string, string> {
    const registryId = body.registryId ?? this.accountId;
    const repo =
      registryId === this.accountId ? this.repositories.get(body.repositoryName ?? "") : undefined;
    if (!repo) {
      throw new AwsError(
        "RepositoryNotFoundException",
        `The repository with name '${body.repositoryName}' does not exist in the registry with id '${registryId}'`,
      );
    }
    return repo;
  }

  private lookup(
    repoName: string,
    repo: Map<string, string>,
    id: ImageId,
  ): { failure: ImageFailure } | { failure?: undefined; digest: string; tags: string[] } {
    if (id.imageTag !== undefined) {
      const key = `${repoName}:${id.imageTag}`;
      const failure = this.imageFailures.get(key);
      if (failure) {
        return {
          failure: { imageId: id, failureCode: failure.code, failureReason: failure.reason },
        };
      }
      const hidden = this.hiddenImages.get(key) ?? 0;
      if (hidden > 0 && repo.has(id.imageTag)) {
        this.hiddenImages.set(key, hidden - 1);
        return {
          failure: {
            imageId: id,
            failureCode: "ImageNotFound",
            failureReason: "Requested image not found",
          },
        };
      }
      const digest = repo.get(id.imageTag);
      if (digest === undefined || (id.imageDigest !== undefined && id.imageDigest !== digest)) {
        return {
          failure: {
            imageId: id,
            failureCode: "ImageNotFound",
            failureReason: "Requested image not found",
          },
        };
      }
      return { digest, tags: [id.imageTag] };
    }
    const tags = [...repo.entries()].filter(([, d]) => d === id.imageDigest).map(([t]) => t);
    if (tags.length === 0) {
      return {
        failure: {
          imageId: id,
          failureCode: "ImageNotFound",
          failureReason: "Requested image not found",
        },
      };
    }
    return { digest: id.imageDigest as string, tags };
  }

  private batchGetImage(body: RequestBody) {
    const ids = body.imageIds ?? [];
    if (ids.length < 1 || ids.length > 100) {
      throw new AwsError(
        "InvalidParameterException",
        "1 validation error detected: Value at 'imageIds' failed to satisfy constraint: Member must have length less than or equal to 100",
      );
    }
    const repo = this.repo(body);
    const images: unknown[] = [];
    const failures: ImageFailure[] = [];
    for (const id of ids) {
      const r = this.lookup(body.repositoryName ?? "", repo, id);
      if (r.failure) {
        failures.push(r.failure);
      } else {
        images.push({
          registryId: this.accountId,
          repositoryName: body.repositoryName,
          imageId: { imageDigest: r.digest, imageTag: id.imageTag },
          imageManifest: JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
          }),
          imageManifestMediaType: "application/vnd.oci.image.manifest.v1+json",
        });
      }
    }
    return { images, failures };
  }

  private describeRepositories(body: RequestBody) {
    const names: string[] = body.repositoryNames ?? [...this.repositories.keys()];
    const repositories = names.map((name) => {
      if (!this.repositories.has(name)) {
        throw new AwsError(
          "RepositoryNotFoundException",
          `The repository with name '${name}' does not exist in the registry with id '${this.accountId}'`,
        );
      }
      return {
        repositoryName: name,
        registryId: this.accountId,
        repositoryArn: `arn:aws:ecr:${this.region}:${this.accountId}:repository/${name}`,
        repositoryUri: `${this.accountId}.dkr.ecr.${this.region}.amazonaws.com/${name}`,
        imageTagMutability: "MUTABLE",
        createdAt: 1_700_000_000,
      };
    });
    return { repositories };
  }

  private describeImages(body: RequestBody) {
    const repo = this.repo(body);
    const ids: ImageId[] = body.imageIds ?? [...repo.keys()].map((imageTag) => ({ imageTag }));
    const imageDetails = ids.map((id) => {
      const r = this.lookup(body.repositoryName ?? "", repo, id);
      if (r.failure) {
        throw new AwsError(
          "ImageNotFoundException",
          `The image with imageId {imageDigest:'${id.imageDigest ?? "null"}', imageTag:'${id.imageTag ?? "null"}'} does not exist within the repository with name '${body.repositoryName}' in the registry with id '${this.accountId}'`,
        );
      }
      return {
        registryId: this.accountId,
        repositoryName: body.repositoryName,
        imageDigest: r.digest,
        imageTags: r.tags,
        imagePushedAt: 1_700_000_000,
        imageManifestMediaType: "application/vnd.oci.image.manifest.v1+json",
      };
    });
    return { imageDetails };
  }

  // ECR: "You can remove a tag from an image by specifying the image's tag in your request. When
  // you remove the last tag from an image, the image is deleted from your repository." By digest,
  // the image goes with all its tags.
  private batchDeleteImage(body: RequestBody) {
    const count = (body.imageIds ?? []).length;
    if (count < 1 || count > 100) {
      throw new AwsError(
        "InvalidParameterException",
        "1 validation error detected: Value at 'imageIds' failed to satisfy constraint: Member must have length between 1 and 100",
      );
    }
    const repo = this.repo(body);
    const imageIds: ImageId[] = [];
    const failures: ImageFailure[] = [];
    for (const id of body.imageIds ?? []) {
      const r = this.lookup(body.repositoryName ?? "", repo, id);
      if (r.failure) {
        failures.push(r.failure);
        continue;
      }
      for (const t of r.tags) {
        repo.delete(t);
      }
      imageIds.push({ imageDigest: r.digest, imageTag: id.imageTag });
    }
    return { imageIds, failures };
  }

  private newBuild(
    projectName: string,
    script: ProjectScript,
    overrides: { name: string; value: string; type: string }[],
    sourceVersion?: string,
    idempotencyToken?: string,
  ): EmulatedBuild {
    const buildNumber = this.buildList.filter((b) => b.projectName === projectName).length + 1;
    const id = `${projectName}:${randomUUID()}`;
    const projectEnv = (script.projectEnvironment ?? []).map((v) => ({ type: "PLAINTEXT", ...v }));
    const names = new Set(overrides.map((o) => o.name));
    const build: EmulatedBuild = {
      id,
      arn: `arn:aws:codebuild:${this.region}:${this.accountId}:build/${id}`,
      buildNumber,
      projectName,
      script,
      step: -1,
      status: "IN_PROGRESS",
      environmentVariables: [...projectEnv.filter((v) => !names.has(v.name)), ...overrides],
      sourceVersion,
      idempotencyToken,
      startTime: Date.now() / 1000,
      pushed: false,
    };
    this.buildList.push(build);
    return build;
  }

  private startBuild(body: RequestBody) {
    const projectName = body.projectName ?? "";
    const script = this.projects.get(projectName);
    if (!script) {
      throw new AwsError(
        "ResourceNotFoundException",
        `Project cannot be found: arn:aws:codebuild:${this.region}:${this.accountId}:project/${projectName}`,
      );
    }
    const params = JSON.stringify({ ...body, idempotencyToken: undefined });
    if (body.idempotencyToken) {
      const seen = this.tokens.get(body.idempotencyToken);
      if (seen) {
        if (seen.params !== params) {
          throw new AwsError("InvalidInputException", "Idempotency token parameter mismatch");
        }
        return {
          build: this.describeBuild(
            this.buildList.find((b) => b.id === seen.buildId) as EmulatedBuild,
          ),
        };
      }
    }
    const running = this.builds(projectName).filter((b) => b.status === "IN_PROGRESS").length;
    if (script.concurrentBuildLimit !== undefined && running >= script.concurrentBuildLimit) {
      throw new AwsError(
        "AccountLimitExceededException",
        `Build concurrent limit of ${script.concurrentBuildLimit} reached for project ${projectName}`,
      );
    }
    if (this.accountQueueFull > 0) {
      this.accountQueueFull--;
      throw new AwsError(
        "AccountLimitExceededException",
        "Cannot have more than 1 builds in queue for the account",
      );
    }
    const overrides = (body.environmentVariablesOverride ?? []).map((v) => ({
      name: v.name,
      value: v.value,
      type: v.type ?? "PLAINTEXT",
    }));
    const build = this.newBuild(
      projectName,
      script,
      overrides,
      body.sourceVersion,
      body.idempotencyToken,
    );
    if (body.idempotencyToken) {
      this.tokens.set(body.idempotencyToken, { buildId: build.id, params });
    }
    // Like CodeBuild, StartBuild answers before the build has a log group and stream.
    const described = this.describeBuild(build);
    const deepLink = `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#logEvent:group=null;stream=null`;
    return { build: { ...described, logs: { deepLink } } };
  }

  private advance(build: EmulatedBuild): void {
    const statuses = build.script.statuses ?? ["IN_PROGRESS", "SUCCEEDED"];
    if (build.status !== "IN_PROGRESS" && build.step >= 0) {
      return;
    }
    build.step = Math.min(build.step + 1, statuses.length - 1);
    build.status = statuses[build.step];
    const signOnly = build.environmentVariables.find((v) => v.name === "SIGN_ONLY_DIGEST")?.value;
    if (build.status === "SUCCEEDED" && !build.pushed && signOnly) {
      build.pushed = true;
      build.pushedDigest = signOnly;
      this.sign(build.script, signOnly);
      return;
    }
    if (build.status === "SUCCEEDED" && !build.pushed && build.script.push !== false) {
      build.pushed = true;
      const tag = build.environmentVariables.find((v) => v.name === "IMAGE_TAG")?.value;
      const repo = this.repositories.get(build.script.repository);
      if (tag && repo) {
        build.pushedDigest =
          build.script.digest ?? `sha256:${createHash("sha256").update(build.id).digest("hex")}`;
        repo.set(tag, build.pushedDigest);
        this.sign(build.script, build.pushedDigest);
        if (build.script.imageDelay) {
          this.hiddenImages.set(`${build.script.repository}:${tag}`, build.script.imageDelay);
        }
      }
    }
  }

  /** cosign's classic signature of `digest`: a `sha256-<hex>.sig` tag in the same repository. */
  private sign(script: ProjectScript, digest: string): void {
    const repo = this.repositories.get(script.repository);
    if (script.signs && repo) {
      const signature = `sha256:${createHash("sha256").update(`signature of ${digest}`).digest("hex")}`;
      repo.set(`${digest.replace(":", "-")}.sig`, signature);
    }
  }

  private describeBuild(build: EmulatedBuild) {
    const failing = build.script.failure?.phase ?? "BUILD";
    const done = build.status !== "IN_PROGRESS";
    const stopAt = done ? PHASES.length : PHASES.indexOf("BUILD") + 1;
    const phases = PHASES.slice(0, stopAt).map((phaseType) => {
      const ok = { statusCode: "", message: "" };
      if (phaseType === "COMPLETED") {
        return { phaseType, startTime: build.startTime };
      }
      if (!done && phaseType === "BUILD") {
        return { phaseType, startTime: build.startTime };
      }
      if (done && build.status !== "SUCCEEDED" && phaseType === failing) {
        return {
          phaseType,
          phaseStatus: build.status,
          contexts: [
            {
              statusCode: build.script.failure?.statusCode ?? "COMMAND_EXECUTION_ERROR",
              message:
                build.script.failure?.message ??
                "Error while executing command: ./build.sh. Reason: exit status 1",
            },
          ],
        };
      }
      return { phaseType, phaseStatus: "SUCCEEDED", contexts: [ok], durationInSeconds: 1 };
    });
    const stream = build.id.split(":")[1];
    const group = `/aws/codebuild/${build.projectName}`;
    return {
      id: build.id,
      arn: build.arn,
      buildNumber: build.buildNumber,
      projectName: build.projectName,
      buildStatus: build.status,
      buildComplete: done,
      currentPhase: done ? "COMPLETED" : "BUILD",
      startTime: build.startTime,
      sourceVersion: build.sourceVersion,
      ...(build.pushedDigest && build.script.exportDigest !== false
        ? {
            exportedEnvironmentVariables: [
              {
                name: "IMAGE_URI",
                value: `${this.accountId}.dkr.ecr.${this.region}.amazonaws.com/${build.script.repository}:${build.environmentVariables.find((v) => v.name === "IMAGE_TAG")?.value}`,
              },
              { name: "IMAGE_DIGEST", value: build.pushedDigest },
            ],
          }
        : {}),
      phases,
      environment: {
        type: "LINUX_CONTAINER",
        image: "aws/codebuild/standard:7.0",
        computeType: "BUILD_GENERAL1_LARGE",
        privilegedMode: true,
        environmentVariables: build.environmentVariables,
      },
      logs: {
        groupName: group,
        streamName: stream,
        ...(build.script.noDeepLink
          ? {}
          : {
              deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#logEvent:group=${group};stream=${stream}`,
            }),
      },
    };
  }

  private batchGetBuilds(body: RequestBody) {
    const ids = body.ids ?? [];
    if (ids.length < 1 || ids.length > 100) {
      throw new AwsError("InvalidInputException", "ids must contain between 1 and 100 items");
    }
    const builds: unknown[] = [];
    const buildsNotFound: string[] = [];
    for (const id of ids) {
      const build = this.buildList.find((b) => b.id === id);
      if (!build) {
        buildsNotFound.push(id);
        continue;
      }
      this.advance(build);
      builds.push(this.describeBuild(build));
    }
    return { builds, buildsNotFound };
  }

  private listBuildsForProject(body: RequestBody) {
    if (!this.projects.has(body.projectName ?? "")) {
      throw new AwsError(
        "ResourceNotFoundException",
        `The provided project name ${body.projectName} does not exist`,
      );
    }
    const all = this.builds(body.projectName);
    if (body.sortOrder !== undefined && all.length > 100) {
      // CodeBuild documents this: sortOrder with more than 100 builds is an error.
      throw new AwsError(
        "InvalidInputException",
        "sortOrder is not supported for projects with more than 100 builds",
      );
    }
    const ordered = all.map((b) => b.id);
    if (body.sortOrder !== "ASCENDING") {
      ordered.reverse();
    }
    const start = body.nextToken ? Number(body.nextToken) : 0;
    const ids = ordered.slice(start, start + 100);
    const next = start + 100 < ordered.length ? String(start + 100) : undefined;
    return { ids, ...(next ? { nextToken: next } : {}) };
  }

  private stopBuild(body: RequestBody) {
    const build = this.buildList.find((b) => b.id === body.id);
    if (!build) {
      throw new AwsError("ResourceNotFoundException", `Build not found: ${body.id}`);
    }
    if (build.status === "IN_PROGRESS") {
      build.status = "STOPPED";
      build.step = Number.MAX_SAFE_INTEGER;
    }
    return { build: this.describeBuild(build) };
  }
}

export async function startAwsEmulator(): Promise<AwsEmulator> {
  const emu = new AwsEmulator();
  await emu.listen();
  return emu;
}
