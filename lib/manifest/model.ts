// The validated manifest and its expansion into images: the types every later stage consumes.

import type { EnvironmentType } from "../compute";
import type { Accelerator } from "../naming";
import type { ServingSpec } from "./serving";

export interface VariantSpec {
  accelerator: Accelerator;
  baseImage?: string;
  computeType?: string;
  platforms?: string[];
  /** Merged over the model's `serving`, field by field. */
  serving?: ServingSpec;
}

export interface ModelSpec {
  name: string;
  /** HuggingFace repo id `org/name`. */
  source: string;
  /** Commit SHA, or a branch where the stack allows it. */
  revision: string;
  /** True when `revision` is a 40-hex commit SHA. */
  pinned: boolean;
  /** The manifest's tag, as written. */
  tag: string;
  description?: string;
  gated: boolean;
  downloadAtRuntime: boolean;
  sizeGB?: number;
  include: string[];
  exclude: string[];
  variants: VariantSpec[];
  /** How KServe serves every variant (a variant's own `serving` fields win). */
  serving?: ServingSpec;
  /** 1-based line where the model's entry starts, for messages of later stages. */
  line: number;
}

/** One model x variant: one repository tag, one CodeBuild project, one output key. */
export interface ImageSpec {
  /** Output key: `<model>` for cpu, `<model>-cuda` for cuda. */
  name: string;
  model: string;
  accelerator: Accelerator;
  source: string;
  revision: string;
  pinned: boolean;
  /** Final tag: manifest tag, `-cuda` for cuda, then the stack's suffix. */
  tag: string;
  /** `<registryPrefix>/<model>`. */
  repositoryName: string;
  baseImage: string;
  environmentType: EnvironmentType;
  computeType: string;
  platforms: string[];
  include: string[];
  exclude: string[];
  gated: boolean;
  /** `downloadAtRuntime`: no image is built; KServe downloads from the Hub itself. */
  skipped: boolean;
  sizeGB?: number;
  description?: string;
  /** The model's `serving` with this variant's merged over it; `{}` when neither has one. */
  serving: ServingSpec;
}

/**
 * Base images pinned by version; a variant's `baseImage` overrides. cuda is the same small base as
 * cpu: a CUDA base image sets NVIDIA_VISIBLE_DEVICES=all and NVIDIA_REQUIRE_CUDA, so on a node whose
 * default runtime is nvidia the modelcar sidecar would see every GPU without requesting one, and the
 * requirement check could stop it on an older driver. The same base also gives both variants the
 * same model layers, which ECR stores once. The GPU check uses its own image (buildspec.yml).
 */
export const DEFAULT_BASE_IMAGES: Record<Accelerator, string> = {
  cpu: "public.ecr.aws/docker/library/busybox:1.37.0",
  cuda: "public.ecr.aws/docker/library/busybox:1.37.0",
};

/** The final stage runs nothing, so any platform the base image has costs no emulation. */
export const DEFAULT_PLATFORMS: Record<Accelerator, string[]> = {
  cpu: ["linux/amd64", "linux/arm64"],
  cuda: ["linux/amd64"],
};
