// The dynamic provider Pulumi serializes into every ModelImage's state: a small loader of handlers.ts from the project, not the implementation.
//
// Pulumi serializes the provider object (each method and everything it references) into the
// `__provider` property of every ModelImage's inputs and outputs, and the dynamic provider host
// (`pulumi-resource-pulumi-nodejs`, started in the project directory) runs that text. Serializing
// the whole implementation cost ~32 KB per image (~30 MB for 500, rewritten on every checkpoint).
// So the methods below reference nothing but `load` and one relative path; `load` requires
// handlers.ts from the project at run time. Consequences:
// - create/read/update/check/diff run the project's current handlers, not code frozen in state:
//   a fix reaches existing resources, and handlers must accept every state an older version wrote.
// - delete runs nothing at all: ModelImage never deletes an image, so `pulumi destroy` needs no
//   project files beyond the node_modules the host itself needs.
// - The path below is part of the state: moving handlers.ts breaks refresh/update of existing
//   stacks unless a module stays at this path.
import type * as pulumi from "@pulumi/pulumi";
import type * as Handlers from "./handlers";

/** handlers.ts relative to the project directory (the provider host's working directory). */
const HANDLERS = "components/modelImage/handlers";

/**
 * The implementation, from the project. The provider host is plain node (TypeScript support is set
 * up in the program's process only), so tsx is registered first when nothing handles `.ts`.
 */
function load(): typeof Handlers {
  /* eslint-disable @typescript-eslint/no-require-imports -- synchronous, by a path known at run time, inside serialized code */
  try {
    if (!require.extensions[".ts"]) {
      require("tsx/cjs/api").register();
    }
    return require(require("node:path").resolve(HANDLERS));
  } catch (e) {
    throw new Error(`ModelImage: run pulumi in the model-images project, after npm install: ${e}`);
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
}

export const modelImageProvider: pulumi.dynamic.ResourceProvider = {
  check: (olds, news) => load().check(olds, news),
  diff: (id, olds, news) => load().diff(id, olds, news),
  create: (inputs) => load().create(inputs),
  read: (id, props) => load().read(id, props),
  update: (id, olds, news) => load().update(id, olds, news),
  // No delete: the provider never deletes an image, not on replace, not on destroy (the host
  // skips a provider without one). The engine creates a replacement before it deletes the old
  // resource, so a delete cannot tell a tag bump (the old image still pinned by InferenceServices)
  // from a destroy; a dev stack's images go with its force-deleted repositories.
};
