// CodeBuild compute choices per accelerator, sized by the disk a docker build of the model needs.

import type { Accelerator } from "./naming";

export type EnvironmentType = "LINUX_CONTAINER" | "LINUX_GPU_CONTAINER";

export interface ComputeOption {
  computeType: string;
  /** Disk of the on-demand build host, GB (CodeBuild "on-demand environment types" table). */
  diskGB: number;
  memoryGiB: number;
  vcpus: number;
}

/**
 * On-demand fleets, from the CodeBuild user guide's compute table. The GPU rows are the reason
 * this table exists: the large GPU type (4x V100) has far less disk than the small one (1x A10G),
 * so a bigger compute type is not a bigger disk.
 */
export const COMPUTE_OPTIONS: Record<Accelerator, readonly ComputeOption[]> = {
  cpu: [
    { computeType: "BUILD_GENERAL1_SMALL", diskGB: 64, memoryGiB: 3, vcpus: 2 },
    { computeType: "BUILD_GENERAL1_MEDIUM", diskGB: 128, memoryGiB: 7, vcpus: 4 },
    { computeType: "BUILD_GENERAL1_LARGE", diskGB: 128, memoryGiB: 15, vcpus: 8 },
    { computeType: "BUILD_GENERAL1_XLARGE", diskGB: 256, memoryGiB: 70, vcpus: 36 },
    { computeType: "BUILD_GENERAL1_2XLARGE", diskGB: 824, memoryGiB: 145, vcpus: 72 },
  ],
  cuda: [
    { computeType: "BUILD_GENERAL1_SMALL", diskGB: 220, memoryGiB: 16, vcpus: 4 },
    { computeType: "BUILD_GENERAL1_LARGE", diskGB: 50, memoryGiB: 255, vcpus: 32 },
  ],
};

export const ENVIRONMENT_TYPES: Record<Accelerator, EnvironmentType> = {
  cpu: "LINUX_CONTAINER",
  cuda: "LINUX_GPU_CONTAINER",
};

/**
 * Disk a build needs per byte of weights. Measured by bench/buildBytes.ts (200 MB model, the real
 * Dockerfile, buildah on overlay): 3.01 bytes held at the peak (staged download 1x, committed layers
 * 1x, a step's container layer 1x while it commits), 2.0 after. BuildKit holds the downloader
 * stage's output (1x), the layer snapshots (1x) and the zstd blobs it exports and pushes (1x; weights
 * do not compress); the registry cache is mode=min, the image's own blobs, so 0x more. Both sums
 * are 3. The extra 0.5 is margin, not measured: `sizeGB` is the operator's figure and is often the
 * Hub's rounded total, the disk also holds the build image, the BuildKit image and the base images,
 * and a peak measured at 200 MB does not show filesystem overhead at 100 GB. Running out of disk
 * half-way through a two-hour build costs more than choosing the next compute type.
 */
export const DISK_FACTOR = 3.5;

/**
 * Regions where CodeBuild runs LINUX_GPU_CONTAINER builds on on-demand compute. From the CodeBuild
 * API Reference, ProjectEnvironment `type` (read 2026-12-01): "The environment type
 * LINUX_GPU_CONTAINER is available only in regions US East (N. Virginia), US East (Ohio), US West
 * (Oregon), Canada (Central), EU (Ireland), EU (London), EU (Frankfurt), Asia Pacific (Tokyo), Asia
 * Pacific (Seoul), Asia Pacific (Singapore), Asia Pacific (Sydney), China (Beijing), and China
 * (Ningxia)." A project elsewhere is created, but its builds fail at provisioning.
 */
export const GPU_REGIONS: readonly string[] = [
  "us-east-1",
  "us-east-2",
  "us-west-2",
  "ca-central-1",
  "eu-west-1",
  "eu-west-2",
  "eu-central-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "cn-north-1",
  "cn-northwest-1",
];

/** Why a cuda build cannot run in `region`, or undefined when it can (or the region is unknown). */
export function gpuRegionProblem(region: string | undefined): string | undefined {
  if (region === undefined || region === "" || GPU_REGIONS.includes(region)) {
    return undefined;
  }
  return `CodeBuild has no GPU compute (LINUX_GPU_CONTAINER) in ${region}; cuda variants build only in ${GPU_REGIONS.join(", ")}: set aws:region to one of them, or remove the cuda variant`;
}

/**
 * Regions where CodeBuild runs LINUX_CONTAINER builds on BUILD_GENERAL1_2XLARGE. From the same API
 * Reference field (read 2026-12-01): "The environment type LINUX_CONTAINER with compute type
 * build.general1.2xlarge is available only in regions US East (N. Virginia), US East (Ohio), US
 * West (Oregon), Canada (Central), EU (Ireland), EU (London), EU (Frankfurt), Asia Pacific (Tokyo),
 * Asia Pacific (Seoul), Asia Pacific (Singapore), Asia Pacific (Sydney), China (Beijing), and China
 * (Ningxia)." The list is the GPU one today; it is its own constant because AWS changes them apart.
 */
export const CPU_2XLARGE = "BUILD_GENERAL1_2XLARGE";
export const CPU_2XLARGE_REGIONS: readonly string[] = [...GPU_REGIONS];

/** Why a cpu build on `computeType` cannot run in `region`, or undefined when it can (or unknown). */
export function cpuComputeRegionProblem(
  computeType: string | undefined,
  region: string | undefined,
): string | undefined {
  if (computeType !== CPU_2XLARGE || !region || CPU_2XLARGE_REGIONS.includes(region)) {
    return undefined;
  }
  return `CodeBuild has no ${CPU_2XLARGE} (LINUX_CONTAINER) in ${region}; it runs only in ${CPU_2XLARGE_REGIONS.join(", ")}: set aws:region to one of them, or set downloadAtRuntime: true`;
}

/** Model size assumed when the manifest gives no `sizeGB`: fits the default compute of each kind. */
export const DEFAULT_COMPUTE: Record<Accelerator, string> = {
  cpu: "BUILD_GENERAL1_MEDIUM",
  cuda: "BUILD_GENERAL1_SMALL",
};

export function computeOption(
  accelerator: Accelerator,
  computeType: string,
): ComputeOption | undefined {
  return COMPUTE_OPTIONS[accelerator].find((o) => o.computeType === computeType);
}

/**
 * The cheapest compute type whose disk holds DISK_FACTOR x the model, or undefined when none does.
 * Options are listed cheapest first; a GPU build prefers the one with enough disk.
 */
export function computeTypeFor(
  accelerator: Accelerator,
  sizeGB: number | undefined,
): string | undefined {
  if (sizeGB === undefined) {
    return DEFAULT_COMPUTE[accelerator];
  }
  const fit = COMPUTE_OPTIONS[accelerator].find((o) => o.diskGB >= sizeGB * DISK_FACTOR);
  return fit?.computeType;
}

/** Largest model (GB) a compute type can build. */
export function maxModelGB(option: ComputeOption): number {
  return Math.floor(option.diskGB / DISK_FACTOR);
}
