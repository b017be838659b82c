// Decides whether a test that needs system tools (buildah, skopeo, docker-registry) runs, skips, or fails.
import { execFileSync } from "node:child_process";

/** True when the binary is on PATH. */
export function hasTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Call from a mocha `before` hook. When a tool is missing the suite is skipped with the reason
 * printed, except in CI (`CI=true`), where a missing tool fails the suite: CI installs them.
 */
export function requireTools(ctx: Mocha.Context, tools: string[]): void {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) {
    return;
  }
  const reason = `missing tools: ${missing.join(", ")} (apt-get install buildah skopeo docker-registry busybox-static)`;
  if (process.env.CI === "true") {
    throw new Error(`${reason}; CI=true, so this is a failure, not a skip`);
  }
  console.log(`      SKIPPED: ${reason}`);
  ctx.skip();
}
