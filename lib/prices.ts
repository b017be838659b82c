// The one price table `plan` estimates with: CodeBuild on-demand minutes and ECR storage, USD, us-east-1.

import type { EnvironmentType } from "./compute";

/**
 * CodeBuild on-demand, Linux, US East (N. Virginia), USD per build minute, as published on
 * https://aws.amazon.com/codebuild/pricing/; date 2026-12-01 (read from copies of that page, which
 * itself was not reachable from where this was written). Only rows those copies agree on are here
 * (general1.small $0.005, general1.medium $0.01, general1.large $0.02); a compute type without a
 * row, the GPU ones included, is estimated as "unknown", never guessed: add its row from the
 * pricing page to price it. Other regions cost more or less: an order of magnitude, not a quote.
 */
export const CODEBUILD_USD_PER_MINUTE: Record<EnvironmentType, Readonly<Record<string, number>>> = {
  LINUX_CONTAINER: {
    BUILD_GENERAL1_SMALL: 0.005,
    BUILD_GENERAL1_MEDIUM: 0.01,
    BUILD_GENERAL1_LARGE: 0.02,
  },
  LINUX_GPU_CONTAINER: {},
};

/**
 * ECR private repository storage, USD per GB-month, as published on
 * https://aws.amazon.com/ecr/pricing/ ("Storage is $0.10 per GB-month"); date 2026-12-01. Data transfer (pulls across regions, to the
 * internet) is billed apart and not estimated.
 */
export const ECR_USD_PER_GB_MONTH = 0.1;

export const PRICES_SOURCE = "lib/prices.ts (us-east-1 on-demand, 2026-12-01)";
