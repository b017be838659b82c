// Stack settings + manifest + the stack's selection -> the images: the one place both `pulumi up`
// (components/config.ts) and the CLI's plan and kserve (cli/selection.ts) get their images from.

import type { Diagnostic } from "./diagnostics";
import { type ImageSpec, parseManifest } from "./manifest";
import { selectImages } from "./selection";
import type { StackSettings } from "./settings";

export interface StackImagesInput {
  /** The manifest's name in problems: a path as the user knows it, or `<stdin>`. */
  file: string;
  /** The manifest's bytes. */
  text: string | Buffer;
  /** The stack's settings, with any command-line overrides (--tag-suffix...) already applied. */
  settings: StackSettings;
  /**
   * `aws:region` of the stack, else AWS_REGION (as the aws provider falls back); "" when neither:
   * CodeBuild has GPU compute in some regions only, so it decides whether cuda variants can build.
   */
  region: string;
  /**
   * Looking, not building (plan, kserve): a gated model is listed on any stack, since reading the
   * registry never needs the Hub token. `pulumi up` refuses it without the token.
   */
  readOnly?: boolean;
}

export interface StackImages {
  /** The stack's images: the manifest's, narrowed by `onlyModels`; empty when there are problems. */
  images: ImageSpec[];
  /** Every image of the manifest before `onlyModels`, for messages naming what it left out. */
  all: ImageSpec[];
  /** Positioned problems of the manifest under the stack's rules. */
  diagnostics: Diagnostic[];
  /** Problems of the stack's selection (an `onlyModels` name that is not in the manifest). */
  problems: string[];
}

/** The images a stack builds (or, read-only, looks at) from a manifest; never throws. */
export function stackImages(input: StackImagesInput): StackImages {
  const rules = {
    ...input.settings,
    region: input.region,
    ...(input.readOnly ? { hasHuggingfaceToken: true } : {}),
  };
  const result = parseManifest(input.file, input.text, rules);
  if (result.diagnostics.length > 0) {
    return { images: [], all: [], diagnostics: result.diagnostics, problems: [] };
  }
  const selected = selectImages(result.images, input.settings.onlyModels);
  return {
    images: selected.problems.length > 0 ? [] : selected.images,
    all: result.images,
    diagnostics: [],
    problems: selected.problems,
  };
}
