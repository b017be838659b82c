// Recording Pulumi mocks: every registered resource with its inputs, plausible AWS outputs, strict calls.

import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
/** What the mocked ECR authorization token holds; it must stay secret wherever it goes. */
export const ECR_PASSWORD = "ecr-password-SENTINEL";
/** The public half KMS returns for the mocked signing key (a real P-256 key, made for the tests). */
export const SIGNING_PUBLIC_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELj/aZG2x+CpOe7z0Ix2jEwIVo/aG
xLkPdK7TxkKGEsq2PVyTKS7Of4ZbnyYUtRzI997otHz34Ywj72yur/MbWg==
-----END PUBLIC KEY-----\n`;

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** Outputs a real provider would add, so components can read ARNs, URLs and versions. */
function outputsFor(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  switch (type) {
    case "awsx:ecr:Repository": {
      const url = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${String(inputs.name)}`;
      return {
        url,
        repository: {
          arn: arn("ecr", `repository/${String(inputs.name)}`),
          name: inputs.name,
          repositoryUrl: url,
          registryId: ACCOUNT,
        },
      };
    }
    case "aws:s3/bucket:Bucket":
      return { bucket: `${name}-abc123`, arn: `arn:aws:s3:::${name}-abc123` };
    case "aws:s3/bucketObjectv2:BucketObjectv2":
      return { versionId: "v-0000000001", etag: "etag" };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { arn: arn("logs", `log-group:${String(inputs.name)}`) };
    case "aws:kms/key:Key":
      return { arn: arn("kms", `key/${name}-0000`), keyId: `${name}-0000` };
    case "aws:iam/role:Role": {
      // A role's name is its id; without an explicit name the provider makes one from `name`.
      const role = typeof inputs.name === "string" ? inputs.name : name;
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${role}`, name: role };
    }
    case "aws:secretsmanager/secret:Secret":
      return { arn: arn("secretsmanager", `secret:${name}-AbCdEf`) };
    case "aws:kms/key:Key":
      return { arn: arn("kms", `key/${name}-0000`), keyId: `${name}-0000` };
    case "aws:sns/topic:Topic":
      return { arn: arn("sns", name), name };
    case "aws:cloudwatch/eventRule:EventRule": {
      // Like a role: an explicit name is the rule's name; without one the provider makes one.
      const rule = typeof inputs.name === "string" ? inputs.name : name;
      return { arn: arn("events", `rule/${rule}`), name: rule };
    }
    case "aws:codebuild/project:Project":
      return { arn: arn("codebuild", `project/${String(inputs.name)}`) };
    case "pulumi-nodejs:dynamic:Resource": {
      // ModelImage: the provider would find or build the image; the digest here is derived from
      // repository and tag so each image gets its own.
      return { imageDigest: mockDigest(String(inputs.repositoryName), String(inputs.tag)) };
    }
    case "docker-build:index:Image": {
      const ref = String((inputs.tags as string[])[0]);
      return { digest: `sha256:${createHash("sha256").update(ref).digest("hex")}`, ref };
    }
    default:
      return {};
  }
}

/** The digest the mocks give an image, for assertions. */
export function mockDigest(repositoryName: string, tag: string): string {
  return `sha256:${createHash("sha256").update(`${repositoryName}:${tag}`).digest("hex")}`;
}

/** One registration as the engine sees it: what the resource is called, under whom, waiting for what. */
export interface Registration {
  /** `<qualified type>::<name>`: the stack-independent part of its URN (parents' types joined by `$`). */
  urn: string;
  /** The parent's `urn` ("" for none). */
  parent: string;
  /** The `urn`s it waits for (dependsOn and the resources its inputs come from), sorted. */
  dependencies: string[];
}

/** The mock monitor's surface the recorder wraps (sdk/nodejs/runtime/mocks.ts MockMonitor). */
interface MockMonitor {
  newUrn(parent: string, type: string, name: string): string;
  registerResource(
    req: {
      getParent(): string;
      getType(): string;
      getName(): string;
      getDependenciesList(): string[];
    },
    callback: unknown,
  ): Promise<void>;
}

/**
 * Record each registration's URN, parent and dependencies. The mock monitor puts only the parent's
 * own type in a URN; the engine joins every ancestor's, as `urn` here does, so a component moved
 * under another parent shows.
 */
function recordRegistrations(into: Registration[]): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const register = monitor.registerResource.bind(monitor);
  const byMockUrn = new Map<string, string>();
  monitor.registerResource = (req, callback) => {
    const parent = byMockUrn.get(req.getParent()) ?? "";
    const type = parent === "" ? req.getType() : `${parent.split("::")[0]}$${req.getType()}`;
    const urn = `${type}::${req.getName()}`;
    byMockUrn.set(monitor.newUrn(req.getParent(), req.getType(), req.getName()), urn);
    const dependencies = req.getDependenciesList().map((d) => byMockUrn.get(d) ?? d);
    into.push({ urn, parent, dependencies: [...new Set(dependencies)].sort() });
    return register(req, callback);
  };
}

/**
 * Install mocks that record resources into `into`. Unknown `call` tokens throw, so an unexpected
 * data-source lookup fails the test instead of returning nothing.
 */
export async function installMocks(
  into: Recorded[],
  stack: string,
  extra: Partial<pulumi.runtime.Mocks> = {},
  /** Receives every call token, in order. */
  calls: string[] = [],
  /** Receives every registration's URN, parent and dependencies. */
  registrations: Registration[] = [],
): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        into.push({ type: args.type, name: args.name, inputs: args.inputs });
        const custom = extra.newResource?.(args);
        if (custom) {
          return custom;
        }
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, ...outputsFor(args.type, args.name, args.inputs) },
        };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        calls.push(args.token);
        switch (args.token) {
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
              accountId: ACCOUNT,
              arn: `arn:aws:iam::${ACCOUNT}:user/test`,
              userId: "AIDTEST",
              id: ACCOUNT,
            };
          case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
              userName: "AWS",
              password: ECR_PASSWORD,
              authorizationToken: Buffer.from(`AWS:${ECR_PASSWORD}`).toString("base64"),
              proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
              id: REGION,
            };
          case "aws:kms/getPublicKey:getPublicKey":
            return {
              keyId: args.inputs.keyId,
              publicKeyPem: SIGNING_PUBLIC_KEY_PEM,
              keyUsage: "SIGN_VERIFY",
              customerMasterKeySpec: "ECC_NIST_P256",
              id: args.inputs.keyId,
            };
          default:
            if (extra.call) {
              return extra.call(args);
            }
            throw new Error(`unexpected call ${args.token}: add it to the mocks on purpose`);
        }
      },
    },
    "model-images",
    stack,
    false,
  );
  recordRegistrations(registrations);
}

/** Resolve an Output's value (mocks resolve everything, even in preview). */
export function unwrap<T>(o: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}

/** Let pending registrations finish: outputs may resolve before the last child is recorded. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setImmediate(r));
  }
}

export function byType(recorded: Recorded[], type: string): Recorded[] {
  return recorded.filter((r) => r.type === type);
}
