// The component library of model-images: one component per file, the catalogue on top.
export * from "./buildSource";
export * from "./huggingfaceToken";
export * from "./modelRepository";
export * from "./modelBuildProject";
export * from "./modelCatalog";
export * from "./builtImage";
export * from "./codeBuildImages";
export * from "./localImages";
export * from "./modelImage";
export * from "./localModelImage";
export * from "./buildNotifications";
export * from "./pullThroughCache";
export * from "./registryReplication";
export * from "./signingKey";
export * from "./config";
