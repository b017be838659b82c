// What either builder (CodeBuild or local docker-build) yields per image: the URIs KServe pulls.

import type * as pulumi from "@pulumi/pulumi";

export interface BuiltImage {
  /** `oci://<registry>/<repo>:<tag>`. */
  uri: pulumi.Output<string>;
  /** `oci://<registry>/<repo>@sha256:…`, from the built or adopted image. */
  digestUri: pulumi.Output<string>;
}
