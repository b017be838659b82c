// ModelImage: a dynamic resource that makes one ECR tag exist (adopt it, or build it once with CodeBuild).
export { ModelImage } from "./resource";
export type { ModelImageArgs } from "./resource";
export { modelImageProvider } from "./provider";
export type { ModelImageInputs, ModelImageOutputs } from "./inputs";
