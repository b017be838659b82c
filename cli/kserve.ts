// `kserve`: KServe InferenceService / LLMInferenceService YAML for the manifest's images, tag or digest pinned.

import * as fs from "node:fs";
import * as path from "node:path";
import {
  DEFAULT_HF_SERVICE_ACCOUNT,
  type KServeKind,
  type KubeObject,
  type LLMApiVersion,
  renderKServe,
  toYaml,
} from "../lib/kserve";
import { isPublicKeyPem, renderImagePolicy } from "../lib/imagePolicy";
import type { ImageSpec } from "../lib/manifest";
import { DNS_SUBDOMAIN_PATTERN } from "../lib/manifest/serving";
import type { StackSettings } from "../lib/settings";
import { ociTagUri } from "../lib/naming";
import { RegistryError, resolveRegistryHost } from "../lib/registry";
import { command, EXIT, UsageError } from "./args";
import {
  loadSelection,
  REGISTRY_FLAGS,
  runCheck,
  type Selection,
  SELECTION_FLAGS,
} from "./selection";

export const KSERVE_FLAGS = {
  "pin-digest": {
    type: "boolean",
    help: "look every image up and use oci://…@sha256:… (a missing image is an error)",
  },
  kind: {
    type: "string",
    arg: "K",
    help: "isvc (InferenceService), llmisvc (LLMInferenceService) or all (default: the\nstack's kserveKinds, [isvc] unless set); 'all' deploys each model twice if\napplied as is",
  },
  out: { type: "string", arg: "DIR", help: "write DIR/<name>.yaml per image instead of printing" },
  namespace: {
    type: "string",
    arg: "NS",
    help: "set metadata.namespace (default: the stack's kserveNamespace; when that is\nempty none, so kubectl apply -n decides)",
  },
  "llm-api-version": {
    type: "string",
    arg: "V",
    help: "LLMInferenceService version: v1alpha2 (default, storage version) or v1alpha1",
  },
  "llm-cpu-image": {
    type: "string",
    arg: "IMAGE",
    help: "LLMInferenceService 'main' image for cpu variants (e.g. a vLLM CPU image)",
  },
  "hf-service-account": {
    type: "string",
    arg: "NAME",
    help: "ServiceAccount that gives gated hf:// models the Hub token to KServe's storage\ninitializer (its Secret has key HF_TOKEN; default hf-token)",
  },
  policy: {
    type: "boolean",
    help: "print instead the Kyverno ClusterPolicy that admits only images of this\nstack's repositories signed with its key (apply it once per cluster)",
  },
  "public-key": {
    type: "string",
    arg: "FILE",
    help: "with --policy: the signing key's PEM (pulumi stack output signingPublicKey)",
  },
} as const;

/** The registry host of the selection, or exit code 1 after saying why it cannot be known. */
async function hostOrExit(
  selection: Selection,
  err: NodeJS.WritableStream,
): Promise<string | number> {
  try {
    return await resolveRegistryHost(selection.target, selection.limits);
  } catch (e) {
    if (e instanceof RegistryError) {
      err.write(`error: ${e.message}\n`);
      return EXIT.failed;
    }
    throw e;
  }
}

async function printPolicy(
  selection: Selection,
  keyFile: string | undefined,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  if (keyFile === undefined) {
    throw new UsageError(
      "--policy needs --public-key FILE: the PEM of the stack's signing key (pulumi stack output signingPublicKey > cosign.pub)",
    );
  }
  let publicKeyPem: string;
  try {
    publicKeyPem = fs.readFileSync(keyFile, "utf8");
  } catch (e) {
    throw new UsageError(`--public-key ${keyFile}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  if (!isPublicKeyPem(publicKeyPem)) {
    throw new UsageError(
      `--public-key ${keyFile} is not a PEM public key ('-----BEGIN PUBLIC KEY-----'); export it with cosign public-key --key awskms:///<key arn>`,
    );
  }
  const registryHost = await hostOrExit(selection, err);
  if (typeof registryHost === "number") {
    return registryHost;
  }
  const { stack, registryPrefix } = selection.settings;
  out.write(toYaml([renderImagePolicy({ stack, registryHost, registryPrefix, publicKeyPem })]));
  return EXIT.ok;
}

const KINDS: Record<string, KServeKind[]> = {
  isvc: ["isvc"],
  llmisvc: ["llmisvc"],
  all: ["isvc", "llmisvc"],
};

/** What to render: --kind and --namespace when given, else the stack's kserveKinds and kserveNamespace. */
export function renderTargets(
  flags: { kind?: string; namespace?: string },
  settings: Pick<StackSettings, "kserveKinds" | "kserveNamespace">,
): { kinds: readonly KServeKind[]; namespace?: string } {
  const namespace = flags.namespace ?? settings.kserveNamespace;
  return {
    kinds: flags.kind === undefined ? settings.kserveKinds : KINDS[flags.kind],
    ...(namespace === "" ? {} : { namespace }),
  };
}

/** The service accounts gated hf:// images run under, for the note on what to create. */
function hubServiceAccounts(images: readonly ImageSpec[], flag: string | undefined): string[] {
  return [
    ...new Set(
      images.map((i) => i.serving.serviceAccountName ?? flag ?? DEFAULT_HF_SERVICE_ACCOUNT),
    ),
  ];
}

export const kserveCommand = command(
  {
    name: "kserve",
    synopsis: "[options]",
    summary: "KServe InferenceService YAML for the images, tag or digest pinned",
    description: `Prints KServe manifests for the manifest's images (multi-document YAML on stdout), or writes one
file per image (<name>.yaml) with --out. Modelcar images use oci:// storage URIs; downloadAtRuntime
models, which have no image, use hf://<source>:<revision> and KServe downloads them at start-up.`,
    groups: [
      { title: "selection (as for 'plan')", flags: SELECTION_FLAGS },
      { title: "registry (as for 'plan')", flags: REGISTRY_FLAGS },
      { title: "output", flags: KSERVE_FLAGS },
    ],
    exitCodes: `Exit codes: 0 written, 1 problems (manifest, stack, registry, a missing image with --pin-digest), 2 usage.`,
  },
  async ({ values }, io) => {
    if (values.kind !== undefined && !KINDS[values.kind]) {
      throw new UsageError(`--kind ${JSON.stringify(values.kind)} must be isvc, llmisvc or all`);
    }
    const llmApiVersion = values["llm-api-version"] ?? "v1alpha2";
    if (llmApiVersion !== "v1alpha1" && llmApiVersion !== "v1alpha2") {
      throw new UsageError(
        `--llm-api-version ${JSON.stringify(llmApiVersion)} must be v1alpha2 or v1alpha1`,
      );
    }
    if (
      values.namespace !== undefined &&
      !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(values.namespace)
    ) {
      throw new UsageError(
        `--namespace ${JSON.stringify(values.namespace)} is not a Kubernetes namespace name`,
      );
    }
    if (values["public-key"] !== undefined && !values.policy) {
      throw new UsageError("--public-key goes with --policy");
    }
    const account = values["hf-service-account"];
    if (account !== undefined && !DNS_SUBDOMAIN_PATTERN.test(account)) {
      throw new UsageError(
        `--hf-service-account ${JSON.stringify(account)} is not a Kubernetes ServiceAccount name`,
      );
    }
    const selection = await loadSelection(values, io);
    if (typeof selection === "number") {
      return selection;
    }
    const { err, out } = io;
    if (values.policy) {
      return printPolicy(selection, values["public-key"], out, err);
    }

    // Tag URIs need only the registry host; digest URIs need every image looked up.
    const uris = new Map<string, string>();
    if (values["pin-digest"]) {
      const result = await runCheck(selection, io);
      if (typeof result === "number") {
        return result;
      }
      const missing = result.checks.filter((c) => c.status === "missing");
      if (missing.length > 0) {
        err.write(
          `error: --pin-digest needs every image, but ${missing.length} ${missing.length === 1 ? "is" : "are"} not in registry ${result.registry}: ${missing
            .map((c) => `${c.image.name} (${c.image.repositoryName}:${c.image.tag})`)
            .join(", ")}. ${
            selection.stackRegistry
              ? `Build ${missing.length === 1 ? "it" : "them"} first (pulumi up --stack ${selection.settings.stack})`
              : `Push ${missing.length === 1 ? "it" : "them"} to ${result.registry} first`
          }, or drop --pin-digest\n`,
        );
        return EXIT.failed;
      }
      result.checks.forEach((c) => c.digestUri && uris.set(c.image.name, c.digestUri));
    } else if (selection.images.some((i) => !i.skipped)) {
      const host = await hostOrExit(selection, err);
      if (typeof host === "number") {
        return host;
      }
      selection.images.forEach((i) => uris.set(i.name, ociTagUri(host, i.repositoryName, i.tag)));
    }

    const options = {
      ...renderTargets(values, selection.settings),
      llmApiVersion: llmApiVersion as LLMApiVersion,
      llmCpuImage: values["llm-cpu-image"],
      hfServiceAccount: values["hf-service-account"],
    };
    let perImage: { name: string; docs: KubeObject[] }[];
    try {
      perImage = selection.images.map((image) => ({
        name: image.name,
        docs: renderKServe(image, uris.get(image.name), options),
      }));
    } catch (e) {
      // A serving field the asked kind cannot express, or a name KServe refuses: the message says which.
      err.write(`error: ${(e as Error).message}\n`);
      return EXIT.failed;
    }

    const skipped = selection.images.filter((i) => i.skipped);
    if (skipped.length > 0) {
      const gated = skipped.filter((i) => i.gated);
      err.write(
        `note: ${skipped.map((i) => i.name).join(", ")} ${skipped.length === 1 ? "is" : "are"} downloadAtRuntime: hf:// storage URI, KServe downloads from the Hub at start-up${
          gated.length > 0
            ? `; gated (${gated.map((i) => i.name).join(", ")}): KServe's storage initializer reads the Hub token through ServiceAccount ${hubServiceAccounts(
                gated,
                options.hfServiceAccount,
              )
                .map((n) => `'${n}'`)
                .join(
                  ", ",
                )}: create a Secret with key HF_TOKEN in the target namespace and list it under that ServiceAccount's secrets`
            : ""
        }\n`,
      );
    }

    if (values.out !== undefined) {
      const dir = path.resolve(io.cwd, values.out);
      fs.mkdirSync(dir, { recursive: true });
      for (const { name, docs } of perImage) {
        fs.writeFileSync(path.join(dir, `${name}.yaml`), toYaml(docs));
      }
      err.write(
        `wrote ${perImage.length} file${perImage.length === 1 ? "" : "s"} to ${values.out}\n`,
      );
    } else {
      out.write(toYaml(perImage.flatMap((p) => p.docs)));
    }
    return EXIT.ok;
  },
);
