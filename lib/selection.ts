// Narrows the catalogue to the stack's `onlyModels`, so a laptop stack can build one model of many.

import type { ImageSpec } from "./manifest";

/** The images of the named models (all when `onlyModels` is empty); unknown names are problems. */
export function selectImages(
  images: readonly ImageSpec[],
  onlyModels: string,
): { images: ImageSpec[]; problems: string[] } {
  const wanted = onlyModels
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  if (wanted.length === 0) {
    return { images: [...images], problems: [] };
  }
  const known = new Set(images.map((i) => i.model));
  const problems = wanted
    .filter((n) => !known.has(n))
    .map(
      (n) =>
        `onlyModels names '${n}', which is not in the manifest (models: ${[...known].join(", ")})`,
    );
  return { images: images.filter((i) => wanted.includes(i.model)), problems };
}
