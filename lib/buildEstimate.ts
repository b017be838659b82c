// How long a missing image's build takes and what it costs, from sizeGB and stated throughputs: pure, for `plan`.

import type { ImageSpec } from "./manifest";
import { CODEBUILD_USD_PER_MINUTE, ECR_USD_PER_GB_MONTH } from "./prices";

/**
 * Throughput assumptions, in MB/s (1 GB = 1000 MB), for one build of a model of `sizeGB`:
 * - DOWNLOAD: the Hub download with hf_xet, one pass over the weights;
 * - LOCAL: BuildKit copying the staged files into layers and compressing them (zstd level 1 on
 *   near-incompressible weights), one pass;
 * - PUSH: the layer upload to ECR in the same region, one pass (the weights are pushed once);
 * - a cuda build also exports the image into the local docker for its GPU smoke check: one more
 *   LOCAL pass.
 * Plus a fixed start: queueing, provisioning, pulling the build images and BuildKit (GPU hosts
 * take longer to provision). Measured builds differ with the Hub's speed for that model, the
 * compute type's network and disk, and queueing; treat the result as the right order of
 * magnitude. CodeBuild bills whole minutes, so the estimate rounds up.
 */
export const THROUGHPUT_MB_S = { DOWNLOAD: 100, LOCAL: 200, PUSH: 100 } as const;
export const START_MINUTES = { cpu: 3, cuda: 6 } as const;

export interface Estimate {
  computeType: string;
  /** Whole build minutes; null without sizeGB. */
  minutes: number | null;
  /** USD for those minutes; null without sizeGB or without a price for the compute type. */
  usd: number | null;
}

type Sized = Pick<ImageSpec, "accelerator" | "computeType" | "environmentType" | "sizeGB">;

/** Build minutes for an image (null when the manifest gives no sizeGB: no guess). */
export function buildMinutes(image: Pick<Sized, "accelerator" | "sizeGB">): number | null {
  if (image.sizeGB === undefined) {
    return null;
  }
  const mb = image.sizeGB * 1000;
  const passes =
    1 / THROUGHPUT_MB_S.DOWNLOAD +
    1 / THROUGHPUT_MB_S.LOCAL +
    1 / THROUGHPUT_MB_S.PUSH +
    (image.accelerator === "cuda" ? 1 / THROUGHPUT_MB_S.LOCAL : 0);
  return Math.ceil(START_MINUTES[image.accelerator] + (mb * passes) / 60);
}

/** USD per minute of the image's compute, or null when the price table has no row for it. */
export function pricePerMinute(
  image: Pick<Sized, "computeType" | "environmentType">,
): number | null {
  return CODEBUILD_USD_PER_MINUTE[image.environmentType]?.[image.computeType] ?? null;
}

/** Round to cents, as the output shows them. */
const cents = (usd: number) => Math.round(usd * 100) / 100;

export function estimateBuild(image: Sized): Estimate {
  const minutes = buildMinutes(image);
  const price = pricePerMinute(image);
  return {
    computeType: image.computeType,
    minutes,
    usd: minutes === null || price === null ? null : cents(minutes * price),
  };
}

export interface Total {
  /** Sum of the known figures. */
  minutes: number;
  usd: number;
  /** How many estimates had no minutes (no sizeGB): the totals leave them out. */
  unknownMinutes: number;
  /** How many had minutes but no price for their compute type: the cost total leaves them out. */
  unknownUsd: number;
}

export function totalOf(estimates: readonly Estimate[]): Total {
  return {
    minutes: estimates.reduce((n, e) => n + (e.minutes ?? 0), 0),
    usd: cents(estimates.reduce((n, e) => n + (e.usd ?? 0), 0)),
    unknownMinutes: estimates.filter((e) => e.minutes === null).length,
    unknownUsd: estimates.filter((e) => e.minutes !== null && e.usd === null).length,
  };
}

export interface Storage {
  /** GB stored for the models with a sizeGB (each model once). */
  gb: number;
  usdPerMonth: number;
  /** Models left out for want of a sizeGB. */
  unknownModels: number;
}

/**
 * Monthly ECR storage of the stack's images: each model counted once, since its variants carry the
 * same weight layers and a repository stores a layer blob once. Images not built
 * (downloadAtRuntime) store nothing.
 */
export function monthlyStorage(
  images: readonly Pick<ImageSpec, "model" | "sizeGB" | "skipped">[],
): Storage {
  const models = new Map<string, number | undefined>();
  for (const i of images.filter((i) => !i.skipped)) {
    models.set(i.model, i.sizeGB);
  }
  const sizes = [...models.values()];
  const gb = sizes.reduce<number>((n, s) => n + (s ?? 0), 0);
  return {
    gb,
    usdPerMonth: cents(gb * ECR_USD_PER_GB_MONTH),
    unknownModels: sizes.filter((s) => s === undefined).length,
  };
}

/** `12 min, $0.12` / `unknown (no sizeGB)` / `12 min, $ unknown (no price for X)`. */
export function formatEstimate(e: Estimate): string {
  if (e.minutes === null) {
    return "unknown (no sizeGB)";
  }
  return e.usd === null
    ? `~${e.minutes} min, cost unknown`
    : `~${e.minutes} min, ~$${e.usd.toFixed(2)}`;
}
