// The admission policy a cluster applies once: Kyverno verifies the cosign signature of every model image the stack builds.
//
// KServe runs a modelcar as a container of the predictor pod, so checking Pods covers every
// InferenceService that mounts one. The signature is cosign's classic `.sig` tag, signed with the
// stack's KMS key and never uploaded to a transparency log (the images are private), so the
// policy carries the public key and turns the Rekor and CT log checks off; the key's private half
// never leaves KMS and only the stack's build role may use it.

import type { KubeObject } from "./kserve";

export const KYVERNO_API_VERSION = "kyverno.io/v1";

export interface ImagePolicyInput {
  /** Pulumi stack name; the policy is named after it so dev and prod policies can coexist. */
  stack: string;
  /** `host[:port]` of the registry the stack pushes to. */
  registryHost: string;
  /** The stack's registryPrefix: every repository it creates is `<prefix>/<model>`. */
  registryPrefix: string;
  /** PEM (`-----BEGIN PUBLIC KEY-----`) of the signing key. */
  publicKeyPem: string;
}

/** `host/prefix/*`: every repository of the stack, including models added after the policy was applied. */
export function policyImageReferences(registryHost: string, registryPrefix: string): string[] {
  return [registryPrefix ? `${registryHost}/${registryPrefix}/*` : `${registryHost}/*`];
}

/** A DNS-1123 name for the policy of `stack` (stack names may hold `_`, `.` and capitals). */
export function imagePolicyName(stack: string): string {
  const slug = stack
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `model-images-${slug || "stack"}-signed`.slice(0, 63).replace(/-+$/, "");
}

const PEM = /^-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\s*$/;

export function isPublicKeyPem(text: string): boolean {
  return PEM.test(text.trim() + "\n");
}

/** True for an ECR host: Kyverno then reads the signatures with its own AWS credentials (IRSA). */
const isEcrHost = (host: string) =>
  /\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(host);

export function renderImagePolicy(input: ImagePolicyInput): KubeObject {
  if (!isPublicKeyPem(input.publicKeyPem)) {
    throw new Error(
      "the signing public key is not a PEM 'PUBLIC KEY' block; export it with `cosign public-key --key awskms:///<key arn>` or take the stack output signingPublicKey",
    );
  }
  return {
    apiVersion: KYVERNO_API_VERSION,
    kind: "ClusterPolicy",
    metadata: {
      name: imagePolicyName(input.stack),
      labels: { "app.kubernetes.io/managed-by": "model-images" },
      annotations: {
        "policies.kyverno.io/title": `Signed model images (${input.stack})`,
        "policies.kyverno.io/description": `Admits a pod only if every image from ${policyImageReferences(input.registryHost, input.registryPrefix).join(", ")} carries a cosign signature made with the model-images signing key of stack ${input.stack}.`,
      },
    },
    spec: {
      // Admission only: a background scan would re-verify every running pod's images on a timer.
      background: false,
      webhookTimeoutSeconds: 30,
      rules: [
        {
          name: "verify-model-image-signature",
          match: { any: [{ resources: { kinds: ["Pod"] } }] },
          verifyImages: [
            {
              imageReferences: policyImageReferences(input.registryHost, input.registryPrefix),
              failureAction: "Enforce",
              type: "Cosign",
              // Tags are resolved to the signed digest and written into the pod, so what runs is what was verified.
              mutateDigest: true,
              verifyDigest: true,
              required: true,
              ...(isEcrHost(input.registryHost)
                ? { imageRegistryCredentials: { providers: ["amazon"] } }
                : {}),
              attestors: [
                {
                  count: 1,
                  entries: [
                    {
                      keys: {
                        publicKeys: input.publicKeyPem.trim() + "\n",
                        rekor: { ignoreTlog: true },
                        ctlog: { ignoreSCT: true },
                      },
                      signatureAlgorithm: "sha256",
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    },
  };
}
