// checkImages: which of the manifest's images a registry already holds — the one implementation `plan`, `kserve` and the program share.

import type { ImageSpec } from "../manifest";
import { ecrRegistryHost, ociDigestUri, ociTagUri } from "../naming";
import { DistributionClient } from "./distribution";
import { BATCH_GET_IMAGE_MAX, EcrChecker } from "./ecr";
import type { CheckOptions, CheckResult, ImageCheck, RegistryTarget } from "./types";

/** Lookups in flight at once: enough to hide latency, few enough to stay under registry rate limits. */
export const DEFAULT_CONCURRENCY = 16;

/**
 * Run `fn` over `items` with at most `limit` in flight; results keep input order. The first
 * failure stops new work and is rethrown once the running calls have settled.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failure) {
    throw failure.error;
  }
  return results;
}

/** The ECR checker for a target, with the caller's retry, timeout and cancellation. */
function ecrCheckerFor(
  target: Extract<RegistryTarget, { kind: "ecr" }>,
  opts: Pick<CheckOptions, "retries" | "timeoutMs" | "signal">,
): EcrChecker {
  return new EcrChecker(target.region, {
    registryId: target.registryId,
    retries: opts.retries,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    identity: target.identity,
  });
}

/** The registry host image URIs name; for ECR without a known account this asks ECR (no tag lookups). */
export async function resolveRegistryHost(
  target: RegistryTarget,
  opts: Pick<CheckOptions, "retries" | "timeoutMs" | "signal"> = {},
): Promise<string> {
  if (target.kind === "distribution") {
    return target.host;
  }
  const checker = ecrCheckerFor(target, opts);
  return ecrRegistryHost(await checker.registryAccount(), target.region);
}

/**
 * Look up every image's tag in the target registry: `present` with its digest, `missing`, or
 * `skipped` (downloadAtRuntime, never looked up). Tags match exactly. Throws a RegistryError when
 * any lookup cannot be completed: an unreachable or unauthorised registry is never "missing".
 */
export async function checkImages(
  images: readonly ImageSpec[],
  target: RegistryTarget,
  opts: CheckOptions = {},
): Promise<CheckResult> {
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const total = images.length;
  let done = images.filter((i) => i.skipped).length;
  const progress = (n: number) => {
    done += n;
    opts.onProgress?.(done, total);
  };
  opts.onProgress?.(done, total);
  const wanted = images.filter((i) => !i.skipped);
  const digests = new Map<string, string | undefined>();
  const key = (repository: string, tag: string) => `${repository}:${tag}`;
  let registry: string;

  if (target.kind === "distribution") {
    const client = new DistributionClient(target.host, {
      insecure: target.insecure,
      credentials: target.credentials,
      retries: opts.retries,
      backoffMs: opts.backoffMs,
      timeoutMs: opts.timeoutMs,
      maxSockets: concurrency,
      signal: opts.signal,
    });
    try {
      if (wanted.length > 0) {
        await client.probe();
      }
      await mapLimit(uniqueRefs(wanted), concurrency, async ({ repository, tag, count }) => {
        digests.set(key(repository, tag), await client.manifestDigest(repository, tag));
        progress(count);
      });
    } finally {
      client.close();
    }
    registry = target.host;
  } else {
    const checker = ecrCheckerFor(target, opts);
    const byRepo = new Map<string, { tags: string[]; count: number }[]>();
    for (const ref of uniqueRefs(wanted)) {
      const chunks = byRepo.get(ref.repository) ?? [];
      const last = chunks[chunks.length - 1];
      if (last && last.tags.length < BATCH_GET_IMAGE_MAX) {
        last.tags.push(ref.tag);
        last.count += ref.count;
      } else {
        chunks.push({ tags: [ref.tag], count: ref.count });
      }
      byRepo.set(ref.repository, chunks);
    }
    const batches = [...byRepo].flatMap(([repository, chunks]) =>
      chunks.map((c) => ({ repository, ...c })),
    );
    await mapLimit(batches, concurrency, async ({ repository, tags, count }) => {
      const found = await checker.batch(repository, tags);
      found.forEach((digest, tag) => digests.set(key(repository, tag), digest));
      progress(count);
    });
    registry = ecrRegistryHost(await checker.registryAccount(), target.region);
  }

  const checks = images.map((image): ImageCheck => {
    const uri = ociTagUri(registry, image.repositoryName, image.tag);
    if (image.skipped) {
      return { image, status: "skipped", uri };
    }
    const digest = digests.get(key(image.repositoryName, image.tag));
    return digest === undefined
      ? { image, status: "missing", uri }
      : {
          image,
          status: "present",
          uri,
          digest,
          digestUri: ociDigestUri(registry, image.repositoryName, digest),
        };
  });
  return { registry, checks };
}

/** Each repository:tag once (two images never share one, but a lookup is never repeated anyway). */
function uniqueRefs(
  images: readonly ImageSpec[],
): { repository: string; tag: string; count: number }[] {
  const refs = new Map<string, { repository: string; tag: string; count: number }>();
  for (const i of images) {
    const k = `${i.repositoryName}:${i.tag}`;
    const ref = refs.get(k);
    if (ref) {
      ref.count++;
    } else {
      refs.set(k, { repository: i.repositoryName, tag: i.tag, count: 1 });
    }
  }
  return [...refs.values()];
}
