// Image URIs in the regions ECR replicates a stack's repositories to: same account, same names, same digests.

import { ecrRegistryHost, ociDigestUri, ociTagUri } from "./naming";

export interface ReplicaUris {
  /** `oci://<registry in region>/<repository>:<tag>`. */
  uri: string;
  /** `oci://<registry in region>/<repository>@sha256:…`; absent while the digest is unknown. */
  digestUri?: string;
}

/**
 * region -> image name -> URIs. Replication copies the manifest as it is, so the digest a KServe
 * resource pins is the same in every region; only the registry host differs.
 */
export function replicaUris(
  regions: readonly string[],
  accountId: string,
  images: readonly { name: string; repositoryName: string; tag: string }[],
  digestUris: Readonly<Record<string, string>>,
): Record<string, Record<string, ReplicaUris>> {
  return Object.fromEntries(
    regions.map((region) => {
      const host = ecrRegistryHost(accountId, region);
      return [
        region,
        Object.fromEntries(
          images.map((i) => {
            const digest = /@(sha256:[0-9a-f]{64})$/.exec(digestUris[i.name] ?? "")?.[1];
            const uri = ociTagUri(host, i.repositoryName, i.tag);
            return [
              i.name,
              digest ? { uri, digestUri: ociDigestUri(host, i.repositoryName, digest) } : { uri },
            ];
          }),
        ),
      ];
    }),
  );
}
