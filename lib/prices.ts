// The one price table `plan` estimates with: CodeBuild on-demand minutes and ECR storage, USD, us-east-1.

import type { EnvironmentType } from "./compute";

/**
 * CodeBuild on-demand (EC2), Linux, US East (N. Virginia), USD per build minute, for every compute
 * type lib/compute.ts can choose (a test keeps the two in step). null means no source gave the
 * figure: `plan` prints "cost unknown", never a guess.
 *
 * The page itself, https://aws.amazon.com/codebuild/pricing/, was not reachable from where this
 * was written; every figure is from copies of it, read 2026-12-01, each row naming its copies:
 * - [A] a Prowler-on-CodeBuild security-assessment README, "CodeBuild compute costs by deployment type
 *   (us-east-1, Linux, On-Demand pricing)", "sourced from the AWS Price List API (effective May
 *   2025)": general1.medium $0.01/min, general1.large $0.02/min, general1.xlarge $0.08/min,
 *   general1.2xlarge $0.20/min.
 * - [B] Autoware's CI infrastructure doc (sources: https://aws.amazon.com/codebuild/pricing/):
 *   general1.medium $0.01, general1.large $0.02, general1.xlarge $0.0798, gpu1.small $0.05,
 *   arm1.large $0.015 per minute.
 * - [C] an ISV platform comparison (source: https://aws.amazon.com/codebuild/pricing/): "Linux x86
 *   XLarge (`general1.xlarge`): 36 vCPU, 72 GB — $0.0798/min".
 * - [D] earthly.dev blog, Linux cost of 200 build minutes from the same page: general1.small
 *   $1.00, general1.medium $2.00, general1.large $4.00, arm1.large $3.00, general1.2xlarge
 *   $40.00, gpu1.large $130.00 (so $0.005, $0.01, $0.02, $0.015, $0.20, $0.65 a minute).
 * - [E] https://kindatechnical.com/aws-codebuild/understanding-codebuild-pricing.html and
 *   https://c3x.dev/resources/aws/aws_codebuild_project/: small $0.005, medium $0.01, large $0.02.
 * GPU rows have one copy each ([B], [D]). Other figures seen and not used: gpu1.large $0.80 (a
 * copy whose arm1.large is $0.0175, not us-east-1's $0.015) and $0.95 (a calculator, no source).
 * Per region: a comparison article of the Tokyo page (ap-northeast-1, January 2026) lists small
 * $0.005, medium $0.01, large $0.02, xlarge $0.1002, 2xlarge $0.25: the large types cost about 25%
 * more there, so outside us-east-1 the figure is an order of magnitude, not a quote.
 */
export const CODEBUILD_USD_PER_MINUTE: Record<
  EnvironmentType,
  Readonly<Record<string, number | null>>
> = {
  LINUX_CONTAINER: {
    BUILD_GENERAL1_SMALL: 0.005, // general1.small [D][E]
    BUILD_GENERAL1_MEDIUM: 0.01, // general1.medium [A][B][D][E]
    BUILD_GENERAL1_LARGE: 0.02, // general1.large [A][B][D][E]
    BUILD_GENERAL1_XLARGE: 0.0798, // general1.xlarge [B][C]; [A] rounds it to $0.08
    BUILD_GENERAL1_2XLARGE: 0.2, // general1.2xlarge [A][D]
  },
  LINUX_GPU_CONTAINER: {
    BUILD_GENERAL1_SMALL: 0.05, // gpu1.small (1x A10G) [B]
    BUILD_GENERAL1_LARGE: 0.65, // gpu1.large (4x V100) [D]
  },
};

/**
 * ECR private repository storage, USD per GB-month, as published on
 * https://aws.amazon.com/ecr/pricing/ ("Storage is $0.10 per GB-month for data stored in private
 * or public repositories", in a copy of that page; [C] gives the same "$0.10/GB-month for private
 * repository storage"); read 2026-12-01. Data transfer (pulls across regions, to the internet) is
 * billed apart and not estimated.
 */
export const ECR_USD_PER_GB_MONTH = 0.1;

export const PRICES_SOURCE = "lib/prices.ts (us-east-1 on-demand, 2026-12-01)";
