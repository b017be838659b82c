// `plan`: which of the manifest's images the registry already holds, and which `pulumi up` would build.

import {
  type Estimate,
  estimateBuild,
  formatEstimate,
  monthlyStorage,
  totalOf,
} from "../lib/buildEstimate";
import { PRICES_SOURCE } from "../lib/prices";
import type { CheckResult, ImageCheck } from "../lib/registry";
import { command, EXIT } from "./args";
import {
  loadSelection,
  REGISTRY_FLAGS,
  runCheck,
  type Selection,
  SELECTION_FLAGS,
} from "./selection";

export const PLAN_FLAGS = {
  json: {
    type: "boolean",
    help: "an array of {name, model, variant, repository, tag, uri, status, digest?, estimate?}; estimate {computeType, minutes, usd} on missing images (null when unknown)",
  },
  "fail-on-missing": {
    type: "boolean",
    help: "exit 3 when any image is missing (CI gates on it)",
  },
} as const;

export const planCommand = command(
  {
    name: "plan",
    synopsis: "[options]",
    summary: "which images the registry holds (present/missing/skipped), and which 'up' builds",
    description: `Lists every image of the manifest as present (with its digest), missing (a 'pulumi up' builds it)
or skipped (downloadAtRuntime: never built). Tags match exactly.`,
    groups: [
      { title: "selection (shared with 'kserve')", flags: SELECTION_FLAGS },
      {
        title: "registry (default: the stack's 'registry' setting, else the stack's ECR registry)",
        flags: REGISTRY_FLAGS,
      },
      { title: "output", flags: PLAN_FLAGS },
    ],
    exitCodes: `Exit codes: 0 the check completed (whatever is missing, unless --fail-on-missing), 1 problems
(manifest, stack, registry, auth, network: nothing is ever guessed "missing"), 2 usage,
3 --fail-on-missing and an image is missing.`,
  },
  async ({ values }, io) => {
    const selection = await loadSelection(values, io);
    if (typeof selection === "number") {
      return selection;
    }
    const result = await runCheck(selection, io);
    if (typeof result === "number") {
      return result;
    }
    io.out.write(
      values.json
        ? JSON.stringify(planEntries(result), null, 2) + "\n"
        : formatTable(result, selection),
    );
    const gated = selection.images.filter((i) => i.gated && !i.skipped);
    if (gated.length > 0 && !selection.settings.hasHuggingfaceToken) {
      io.err.write(
        `note: ${gated.map((i) => i.name).join(", ")} ${gated.length === 1 ? "is" : "are"} gated and stack '${selection.settings.stack}' has no huggingface-token: 'pulumi up' will need it (pulumi config set --secret huggingface-token <token> --stack ${selection.settings.stack})\n`,
      );
    }
    const missing = result.checks.some((c) => c.status === "missing");
    return values["fail-on-missing"] && missing ? EXIT.missing : EXIT.ok;
  },
);

/** `sha256:` and the first 12 hex digits: enough to tell images apart in a table. */
export function shortDigest(digest: string | undefined): string {
  if (digest === undefined) {
    return "";
  }
  const [alg, hex] = digest.split(":");
  return `${alg}:${(hex ?? "").slice(0, 12)}`;
}

export interface PlanEntry {
  name: string;
  model: string;
  variant: string;
  repository: string;
  tag: string;
  uri: string;
  status: ImageCheck["status"];
  digest?: string;
  /** Missing images only: what building it takes (minutes and usd null when unknown). */
  estimate?: Estimate;
}

export function planEntries(result: CheckResult): PlanEntry[] {
  return result.checks.map((c) => ({
    name: c.image.name,
    model: c.image.model,
    variant: c.image.accelerator,
    repository: c.image.repositoryName,
    tag: c.image.tag,
    uri: c.uri,
    status: c.status,
    ...(c.digest !== undefined ? { digest: c.digest } : {}),
    ...(c.status === "missing" ? { estimate: estimateBuild(c.image) } : {}),
  }));
}

/** The estimate line under the summary: build total of the missing images, storage of all. */
export function estimateLine(result: CheckResult): string {
  const missing = result.checks.filter((c) => c.status === "missing");
  const total = totalOf(missing.map((c) => estimateBuild(c.image)));
  const storage = monthlyStorage(result.checks.map((c) => c.image));
  const unknown = (n: number, what: string) => (n > 0 ? ` (${n} without ${what})` : "");
  const build =
    missing.length === 0
      ? "nothing to build"
      : `building the ${missing.length} missing: ~${total.minutes} min${unknown(total.unknownMinutes, "sizeGB")}, ~$${total.usd.toFixed(2)}${unknown(total.unknownUsd, "a price")}`;
  return `estimate: ${build}; ECR storage of the stack's images ~${storage.gb} GB, ~$${storage.usdPerMonth.toFixed(2)}/month${unknown(storage.unknownModels, "sizeGB")} (prices: ${PRICES_SOURCE})`;
}

export function formatTable(result: CheckResult, selection?: Selection): string {
  const rows = [
    ["NAME", "TAG", "STATUS", "DIGEST", "BUILD ESTIMATE"],
    ...result.checks.map((c) => [
      c.image.name,
      c.image.tag,
      c.status,
      shortDigest(c.digest),
      c.status === "missing"
        ? `${c.image.computeType}, ${formatEstimate(estimateBuild(c.image))}`
        : "",
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd(),
  );
  const count = (s: ImageCheck["status"]) => result.checks.filter((c) => c.status === s).length;
  const missing = count("missing");
  const where = selection
    ? `registry ${result.registry}, stack ${selection.settings.stack}`
    : `registry ${result.registry}`;
  lines.push(
    "",
    `${count("present")} present, ${missing} missing, ${count("skipped")} skipped (${where})`,
    estimateLine(result),
  );
  if (missing > 0 && selection?.stackRegistry) {
    lines.push(
      `pulumi up --stack ${selection.settings.stack} builds the ${missing} missing image${missing === 1 ? "" : "s"}`,
    );
  }
  return lines.join("\n") + "\n";
}
