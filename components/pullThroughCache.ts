// ECR pull-through cache rules for the build's base and BuildKit images, so builds skip Docker Hub's anonymous rate limit.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlainEnv } from "../lib/buildEnv";
import {
  PULL_THROUGH_ENV,
  pullThroughPrefix,
  pullThroughStatement,
  UPSTREAM_REGISTRY_URL,
  type Upstream,
} from "../lib/pullThrough";

export interface PullThroughCacheArgs {
  /** Stack name and registryPrefix: together they make the rule prefixes unique in the account. */
  stack: string;
  registryPrefix: string;
  /**
   * Secrets Manager secret (`ecr-pullthroughcache/...`) with Docker Hub credentials; without it there
   * is no Docker Hub rule (ECR requires authentication for Docker Hub upstreams).
   */
  dockerHubCredentialArn?: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com`: where the cached images are pulled from. */
  registryHost: pulumi.Input<string>;
  region: string;
  accountId: pulumi.Input<string>;
}

export class PullThroughCache extends pulumi.ComponentResource {
  readonly rules: Partial<Record<Upstream, aws.ecr.PullThroughCacheRule>> = {};
  /** Rule prefix per upstream. */
  readonly prefixes: Partial<Record<Upstream, string>> = {};
  /** Build variables naming `<registry>/<prefix>` per upstream; buildspec.yml rewrites image names with them. */
  readonly environment: pulumi.Output<PlainEnv[]>;
  /** The CodeBuild role's statement: pull-through actions on these rules' repositories only. */
  readonly policyStatement: pulumi.Output<object>;

  constructor(name: string, args: PullThroughCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:registry:PullThroughCache", name, {}, opts);
    const upstreams: Upstream[] = args.dockerHubCredentialArn
      ? ["ecr-public", "docker-hub"]
      : ["ecr-public"];
    for (const upstream of upstreams) {
      const prefix = pullThroughPrefix(args.stack, args.registryPrefix, upstream);
      this.prefixes[upstream] = prefix;
      this.rules[upstream] = new aws.ecr.PullThroughCacheRule(
        `${name}-${upstream}`,
        {
          ecrRepositoryPrefix: prefix,
          upstreamRegistryUrl: UPSTREAM_REGISTRY_URL[upstream],
          ...(upstream === "docker-hub" ? { credentialArn: args.dockerHubCredentialArn } : {}),
        },
        { parent: this },
      );
    }
    const prefixes = Object.values(this.prefixes);
    this.environment = pulumi
      .output(args.registryHost)
      .apply((host) =>
        upstreams.map((u) => ({ name: PULL_THROUGH_ENV[u], value: `${host}/${this.prefixes[u]}` })),
      );
    this.policyStatement = pulumi
      .output(args.accountId)
      .apply((account) => pullThroughStatement(args.region, account, prefixes));
    this.registerOutputs({ environment: this.environment });
  }
}
