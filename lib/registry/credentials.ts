// Registry logins as skopeo, crane and docker find them: REGISTRY_USERNAME/REGISTRY_PASSWORD, then
// REGISTRY_AUTH_FILE, then Docker's config.json (credHelpers, credsStore, auths).
//
// The file formats (docker's config.json, containers-auth.json(5)) share `auths`: keys are a
// registry host, optionally written as a URL (`https://index.docker.io/v1/`), and entries hold
// `auth` (base64 of `user:password`) or `username`/`password`. A credential helper is the
// executable `docker-credential-<name>`: `get` reads the server on stdin and prints
// `{"ServerURL", "Username", "Secret"}`; a Username of `<token>` means Secret is an identity token.

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { abortReason } from "./http";
import { RegistryError, type RegistryCredentials } from "./types";

/** How long a credential helper may take (it may unlock a keychain). */
const HELPER_TIMEOUT_MS = 10_000;

interface Limits {
  timeoutMs: number;
  signal?: AbortSignal;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Docker Hub's image host and the key `docker login` writes for it. */
const DOCKER_HUB_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** The host a config key names: `https://index.docker.io/v1/` → `index.docker.io`. */
export function normalizeKey(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
  return DOCKER_HUB_HOSTS.has(host) ? "docker.io" : host;
}

function readAuthFile(file: string): AuthFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      return undefined;
    }
    throw new RegistryError(
      `cannot read registry logins from ${file}: ${(e as NodeJS.ErrnoException).code}`,
    );
  }
  try {
    const parsed = JSON.parse(text) as AuthFile;
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    throw new RegistryError(
      `${file} is not valid JSON; fix or remove it (it holds registry logins)`,
    );
  }
}

/** The entry of `record` whose key names `host` (keys may be URLs). */
function lookup<T>(record: Record<string, T> | undefined, host: string): T | undefined {
  const want = normalizeKey(host);
  const key = Object.keys(record ?? {}).find((k) => normalizeKey(k) === want);
  return key === undefined ? undefined : record![key];
}

function fromEntry(
  entry: AuthEntry | undefined,
  host: string,
  source: string,
): RegistryCredentials | undefined {
  if (!entry) {
    return undefined;
  }
  if (entry.username && entry.password) {
    return { username: entry.username, password: entry.password, source };
  }
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) {
      throw new RegistryError(
        `the login for ${host} in ${source} is not base64 of user:password; log in again`,
      );
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (entry.identitytoken) {
    throw new RegistryError(
      `the login for ${host} in ${source} is an identity token, which this CLI cannot exchange; set REGISTRY_USERNAME and REGISTRY_PASSWORD instead`,
    );
  }
  return undefined;
}

/** Run `docker-credential-<helper> get` for `host`; undefined when it has no login for it. */
function runHelper(
  helper: string,
  host: string,
  source: string,
  env: NodeJS.ProcessEnv,
  limits: Limits,
): Promise<RegistryCredentials | undefined> {
  const { timeoutMs, signal } = limits;
  const exe = `docker-credential-${helper}`;
  const server = normalizeKey(host) === "docker.io" ? "https://index.docker.io/v1/" : host;
  return new Promise((resolve, reject) => {
    const child = execFile(
      exe,
      ["get"],
      { env, timeout: timeoutMs, signal },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (signal?.aborted) {
            reject(
              new RegistryError(
                `${exe} get did not answer for ${host} within ${abortReason(signal)} (${source})`,
              ),
            );
          } else if (code === "ENOENT") {
            reject(
              new RegistryError(
                `${source} names the credential helper '${helper}', but ${exe} is not on PATH; install it or remove it from ${source}`,
              ),
            );
          } else if (/credentials not found/i.test(stdout + stderr)) {
            resolve(undefined);
          } else if (error.killed) {
            reject(
              new RegistryError(
                `${exe} get did not answer for ${host} within ${timeoutMs / 1000} s (${source})`,
              ),
            );
          } else {
            reject(
              new RegistryError(
                `${exe} get failed for ${host} (${source}): ${(stderr || stdout).trim().split("\n")[0] || `exit ${code}`}`,
              ),
            );
          }
          return;
        }
        let answer: { Username?: string; Secret?: string };
        try {
          answer = JSON.parse(stdout);
        } catch {
          reject(new RegistryError(`${exe} get did not print JSON for ${host} (${source})`));
          return;
        }
        if (answer.Username === "<token>") {
          reject(
            new RegistryError(
              `${exe} holds an identity token for ${host}, which this CLI cannot exchange; set REGISTRY_USERNAME and REGISTRY_PASSWORD instead`,
            ),
          );
        } else if (answer.Username && answer.Secret) {
          resolve({ username: answer.Username, password: answer.Secret, source });
        } else {
          resolve(undefined);
        }
      },
    );
    child.stdin?.end(server + "\n");
  });
}

/** `~/.docker/config.json`, or `$DOCKER_CONFIG/config.json`, as docker reads it. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  return path.join(
    env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), ".docker"),
    "config.json",
  );
}

/** Shorten the home directory to `~` in a path shown to the user. */
function shown(file: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME ?? os.homedir();
  return home && file.startsWith(home + path.sep) ? `~${file.slice(home.length)}` : file;
}

/** Logins from one auth file: credHelpers for the host, then credsStore, then auths. */
async function fromFile(
  file: string,
  host: string,
  env: NodeJS.ProcessEnv,
  limits: Limits,
): Promise<RegistryCredentials | undefined> {
  const config = readAuthFile(file);
  if (!config) {
    return undefined;
  }
  const name = shown(file, env);
  const helper = lookup(config.credHelpers, host);
  if (helper) {
    return runHelper(helper, host, `${name} (credHelpers: ${helper})`, env, limits);
  }
  if (config.credsStore) {
    const stored = await runHelper(
      config.credsStore,
      host,
      `${name} (credsStore: ${config.credsStore})`,
      env,
      limits,
    );
    if (stored) {
      return stored;
    }
  }
  return fromEntry(lookup(config.auths, host), host, name);
}

/**
 * The login for `host`, or undefined for anonymous access. Order: REGISTRY_USERNAME and
 * REGISTRY_PASSWORD, then REGISTRY_AUTH_FILE (as skopeo), then Docker's config.json (as docker and
 * crane). A broken source is an error, never silently skipped.
 */
export async function findCredentials(
  host: string,
  env: NodeJS.ProcessEnv,
  /** The command's deadline; a helper also gets at most 10 s of its own. */
  signal?: AbortSignal,
): Promise<RegistryCredentials | undefined> {
  const limits: Limits = { timeoutMs: HELPER_TIMEOUT_MS, signal };
  const { REGISTRY_USERNAME: username, REGISTRY_PASSWORD: password } = env;
  if ((username === undefined) !== (password === undefined)) {
    throw new RegistryError("set both REGISTRY_USERNAME and REGISTRY_PASSWORD, or neither");
  }
  if (username !== undefined && password !== undefined) {
    return { username, password, source: "REGISTRY_USERNAME/REGISTRY_PASSWORD" };
  }
  if (env.REGISTRY_AUTH_FILE) {
    const found = await fromFile(env.REGISTRY_AUTH_FILE, host, env, limits);
    if (found) {
      return found;
    }
  }
  return fromFile(dockerConfigPath(env), host, env, limits);
}
