// The registry's ECR replication configuration: copies of this stack's repositories in other regions.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface RegistryReplicationArgs {
  /** Repositories named `<registryPrefix>/...` are replicated, and no others. */
  registryPrefix: string;
  /** Destination regions; never the stack's own. */
  regions: string[];
  /** The stack's region (where the configuration lives). */
  sourceRegion: string;
  /** The account: replicas stay in the same registry id, in other regions. */
  accountId: pulumi.Input<string>;
}

/**
 * The repository filter: `<registryPrefix>/`, with the slash, so prod's `kserve-models` does not
 * also replicate dev's `kserve-models-dev/...` (the filter type is PREFIX_MATCH, "a repository name
 * prefix", and its pattern allows a trailing slash).
 */
export function replicationFilter(registryPrefix: string): string {
  return `${registryPrefix}/`;
}

/**
 * ECR holds one replication configuration per account and region; `PutReplicationConfiguration`
 * replaces all of it, which is why the stack must say it owns it (`manageRegistryReplication`).
 * "By default, replication only applies to images pushed after the replication configuration is
 * applied" (ECR user guide, replication backfill): images built before are not copied.
 */
export class RegistryReplication extends pulumi.ComponentResource {
  readonly configuration: aws.ecr.ReplicationConfiguration;

  constructor(name: string, args: RegistryReplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:registry:RegistryReplication", name, {}, opts);
    if (args.regions.includes(args.sourceRegion)) {
      throw new pulumi.RunError(
        `replicaRegions lists ${args.sourceRegion}, the stack's own region (aws:region): the images are already there; remove it from replicaRegions`,
      );
    }
    this.configuration = new aws.ecr.ReplicationConfiguration(
      `${name}-configuration`,
      {
        replicationConfiguration: {
          rules: [
            {
              destinations: args.regions.map((region) => ({
                region,
                registryId: args.accountId,
              })),
              repositoryFilters: [
                { filter: replicationFilter(args.registryPrefix), filterType: "PREFIX_MATCH" },
              ],
            },
          ],
        },
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
