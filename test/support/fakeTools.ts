// Fake build-host tools (docker/buildx, aws, cosign, curl, sha256sum, node, nvidia-smi, uname) that log every call and answer like the real ones.
//
// Each fake is a link to one bash script, fakeTools.sh (a node script per call costs ~0.2 s here,
// and a build makes ~25 calls). A call records, in its own numbered directory under $FAKE_LOG, the tool, its
// argv, what it read on stdin (docker login, buildx's `--file -`, sha256sum) and its whole
// environment, so that tests can assert order, arguments and where a secret did (not) go. Answers:
//   docker buildx version                  a version line
//   docker buildx build --metadata-file F  writes F with containerimage.digest = $FAKE_DIGEST
//   docker run -d ... -v <dir>:/run/buildkit   listens on <dir>/buildkitd.sock (buildkitd is up)
//   aws ecr get-login-password             prints a password
//   curl --output F <url>                  writes the fake cosign to F (the "download")
//   node dist/model-images.js bom ...      prints "{}" (the BOM)
//   nvidia-smi -L                          a GPU line;  uname -m   x86_64
// A call fails (exit 1, after recording) when "<tool> <argv...>" starts with one of the
// `|`-separated prefixes in $FAKE_FAIL, e.g. FAKE_FAIL="cosign sign|docker run --rm".
import * as fs from "node:fs";
import * as path from "node:path";

export interface ToolCall {
  tool: string;
  argv: string[];
  stdin?: string;
  env: Record<string, string>;
}

/** The tools the fakes stand for; cosign is only "downloadable" (curl), never on PATH. */
const TOOLS = ["docker", "aws", "curl", "sha256sum", "node", "nvidia-smi", "uname"];
const SCRIPT = path.join(__dirname, "fakeTools.sh");

export interface FakeTools {
  /** Directory to put first on PATH. */
  bin: string;
  /** Variables the fakes read (log file, digest, the cosign "download"). */
  env: Record<string, string>;
  /** Every call so far, in order. */
  calls(): ToolCall[];
}

/** Writes the fakes under `dir`; cosign is not on PATH, only "downloadable" through curl. */
export function fakeTools(dir: string, digest: string): FakeTools {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  const log = path.join(dir, "calls");
  fs.mkdirSync(log);
  for (const tool of TOOLS) {
    fs.symlinkSync(SCRIPT, path.join(bin, tool));
  }
  const cosign = path.join(dir, "cosign");
  // curl "downloads" this copy; the buildspec's script runs it as $work/bin/cosign.
  fs.copyFileSync(SCRIPT, cosign);
  return {
    bin,
    env: { FAKE_LOG: log, FAKE_DIGEST: digest, FAKE_COSIGN: cosign, FAKE_NODE: process.execPath },
    calls: () =>
      fs
        .readdirSync(log)
        .sort()
        .map((n) => readCall(path.join(log, n))),
  };
}

function readCall(rec: string): ToolCall {
  const nul = (file: string) => {
    const parts = fs.readFileSync(path.join(rec, file), "utf8").split("\0");
    parts.pop();
    return parts;
  };
  const stdin = path.join(rec, "stdin");
  return {
    tool: fs.readFileSync(path.join(rec, "tool"), "utf8"),
    argv: nul("argv"),
    ...(fs.existsSync(stdin) ? { stdin: fs.readFileSync(stdin, "utf8") } : {}),
    env: Object.fromEntries(
      nul("env").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    ),
  };
}
