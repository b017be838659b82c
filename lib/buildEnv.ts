// The environment contract between a CodeBuild project and buildspec/buildspec.yml (non-secret values only).

import type { ImageSpec } from "./manifest";

/** Name of the SECRETS_MANAGER variable that carries the HuggingFace token into a build. */
export const HF_TOKEN_ENV = "HF_TOKEN";
/**
 * Set per build by the ModelImage provider: the S3 key of the source archive
 * (`sources/<sha256>.zip`) the project builds. Informational for the build; for the provider it
 * makes a new source a new input.
 */
export const BUILD_SOURCE_ENV = "BUILD_SOURCE_KEY";
/** The variable the ModelImage provider overrides per build; the buildspec tags with it. */
export const IMAGE_TAG_ENV = "IMAGE_TAG";

export interface PlainEnv {
  name: string;
  value: string;
}

/**
 * Build parameters of one image, all PLAINTEXT: nothing here is secret. The token is never part of
 * this list; it is added by the project as a SECRETS_MANAGER reference.
 */
export function buildEnvironment(
  image: ImageSpec,
  repositoryUri: string,
  maxLayerBytes: number,
): PlainEnv[] {
  // The order is the project's: changing it would show as a change of every project.
  return Object.entries(buildInputs(image, maxLayerBytes)).flatMap(([name, value]) =>
    name === IMAGE_TAG_ENV
      ? [
          { name, value },
          { name: "REPOSITORY_URI", value: repositoryUri },
        ]
      : [{ name, value }],
  );
}

/**
 * What decides an image's content, as the build sees it: every variable above except where it is
 * pushed. The ModelImage provider passes these as StartBuild overrides, so a change of any of them
 * (a new revision, include list or base image under the same tag) is a change of its inputs.
 */
export function buildInputs(image: ImageSpec, maxLayerBytes: number): Record<string, string> {
  return {
    MODEL_NAME: image.model,
    MODEL_ID: image.source,
    MODEL_REVISION: image.revision,
    [IMAGE_TAG_ENV]: image.tag,
    BASE_IMAGE: image.baseImage,
    ACCELERATOR: image.accelerator,
    PLATFORMS: image.platforms.join(","),
    INCLUDE_PATTERNS: JSON.stringify(image.include),
    EXCLUDE_PATTERNS: JSON.stringify(image.exclude),
    MAX_LAYER_BYTES: String(maxLayerBytes),
  };
}

/** The Dockerfile's build args for one image (what the buildspec passes from the env above). */
export function dockerBuildArgs(image: ImageSpec, maxLayerBytes: number): Record<string, string> {
  return {
    MODEL_ID: image.source,
    MODEL_REVISION: image.revision,
    MODEL_NAME: image.model,
    IMAGE_VERSION: image.tag,
    INCLUDE_PATTERNS: JSON.stringify(image.include),
    EXCLUDE_PATTERNS: JSON.stringify(image.exclude),
    MAX_LAYER_BYTES: String(maxLayerBytes),
    BASE_IMAGE: image.baseImage,
  };
}
