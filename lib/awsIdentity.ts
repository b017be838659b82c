// The AWS identity the stack's `aws` provider acts as (aws:profile, aws:assumeRoles), for the SDK clients of ModelImage and `plan`.
//
// Without this, our own clients would use the default credential chain while the stack's `aws`
// provider uses its profile or role: the two could act in different accounts. Only names travel
// (profile name, role ARN, session name, external id); credentials are resolved at call time and
// never stored.

/** Non-secret description of an AWS identity; empty means the standard credential chain. */
export interface AwsIdentity {
  /** Named profile of the shared config/credentials files (`aws:profile`). */
  profile?: string;
  /** Role to assume with the profile's (or the chain's) credentials (`aws:assumeRoles[0].roleArn`). */
  roleArn?: string;
  /** Session name for the assumed role (`sessionName`; default `model-images`). */
  roleSessionName?: string;
  /** External id the role's trust policy asks for (`externalId`). */
  externalId?: string;
}

/** The fields of one `aws:assumeRoles` entry (or `aws:assumeRole`) that we can honour. */
const ROLE_FIELDS: Record<string, keyof AwsIdentity> = {
  roleArn: "roleArn",
  sessionName: "roleSessionName",
  externalId: "externalId",
};

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/**
 * The identity from the stack's `aws:*` config, as the Pulumi engine (strings, JSON objects) or a
 * stack file (YAML values) gives it. `problems` names every setting we cannot honour and says what
 * to do, so our clients never quietly act as someone else than the stack.
 */
export function identityFromAwsConfig(
  get: (key: "profile" | "assumeRoles" | "assumeRole") => unknown,
): {
  identity: AwsIdentity;
  problems: string[];
} {
  const problems: string[] = [];
  const identity: AwsIdentity = {};
  const profile = get("profile");
  if (profile !== undefined && profile !== null && profile !== "") {
    if (typeof profile === "string") {
      identity.profile = profile;
    } else {
      problems.push(`aws:profile must be a profile name (got ${JSON.stringify(profile)})`);
    }
  }
  const parse = (v: unknown) => {
    if (typeof v !== "string") {
      return v;
    }
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  };
  const many = parse(get("assumeRoles"));
  const one = parse(get("assumeRole"));
  let roles: unknown[] = [];
  let key = "aws:assumeRoles";
  if (Array.isArray(many)) {
    roles = many;
  } else if (many !== undefined && many !== null) {
    problems.push("aws:assumeRoles must be a list of roles ({roleArn, sessionName, externalId})");
  } else if (one !== undefined && one !== null) {
    roles = [one];
    key = "aws:assumeRole";
  }
  if (roles.length > 1) {
    problems.push(
      `${key} chains ${roles.length} roles; ModelImage and plan assume one role only: give the profile the first role's credentials (a role_arn profile) and list only the last role`,
    );
  }
  const role = roles[roles.length - 1];
  if (role !== undefined) {
    if (typeof role !== "object" || role === null || Array.isArray(role)) {
      problems.push(`${key} entries must be objects with roleArn (got ${JSON.stringify(role)})`);
    } else {
      for (const [field, value] of Object.entries(role as Record<string, unknown>)) {
        const target = ROLE_FIELDS[field];
        if (target === undefined) {
          problems.push(
            `${key}.${field} is not supported by ModelImage and plan (they honour roleArn, sessionName and externalId); remove it or move it into the role's trust or session policy`,
          );
        } else if (typeof value !== "string" || value === "") {
          problems.push(`${key}.${field} must be a non-empty string`);
        } else {
          identity[target] = value;
        }
      }
      if (identity.roleArn === undefined) {
        problems.push(`${key} needs roleArn`);
      } else if (!ROLE_ARN.test(identity.roleArn)) {
        problems.push(
          `${key}.roleArn ${JSON.stringify(identity.roleArn)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
        );
      }
    }
  }
  return { identity, problems };
}

/** Identity values as plain inputs (undefined fields left out), for state and comparisons. */
export function identityInputs(identity: AwsIdentity): AwsIdentity {
  const out: AwsIdentity = {};
  for (const k of ["profile", "roleArn", "roleSessionName", "externalId"] as const) {
    if (identity[k] !== undefined) {
      out[k] = identity[k];
    }
  }
  return out;
}

/**
 * The part of @aws-sdk/client-sts used here. The package is loaded by name only when a role is
 * configured, so stacks without one (and `plan`'s start-up) never load STS.
 */
interface StsModule {
  STSClient: new (config: object) => {
    send(command: unknown): Promise<{
      Credentials?: {
        AccessKeyId?: string;
        SecretAccessKey?: string;
        SessionToken?: string;
        Expiration?: Date;
      };
    }>;
    destroy(): void;
  };
  AssumeRoleCommand: new (input: {
    RoleArn: string;
    RoleSessionName: string;
    ExternalId?: string;
  }) => unknown;
}
const STS_PACKAGE = "@aws-sdk/client-sts";

/** Temporary credentials as the SDK wants them. */
interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/**
 * SDK client settings that act as `identity`: `profile` (the SDK then reads that profile, ahead
 * of AWS_ACCESS_KEY_ID in the environment, as a configured `aws:profile` does for the stack) and,
 * with a role, credentials from sts:AssumeRole made with the profile's (or the chain's)
 * credentials, refreshed before they expire.
 */
export function awsClientIdentity(
  identity: AwsIdentity,
  region: string,
): { profile?: string; credentials?: () => Promise<Credentials> } {
  const base = identity.profile ? { profile: identity.profile } : {};
  if (!identity.roleArn) {
    return base;
  }
  const roleArn = identity.roleArn;
  let cached: Credentials | undefined;
  const credentials = async (): Promise<Credentials> => {
    // Refresh five minutes before expiry: a build wait outlives the default one-hour session.
    if (cached && (!cached.expiration || cached.expiration.getTime() - Date.now() > 300_000)) {
      return cached;
    }
    const sts = (await import(STS_PACKAGE)) as StsModule;
    const client = new sts.STSClient({ region, ...base });
    try {
      const out = await client.send(
        new sts.AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: identity.roleSessionName ?? "model-images",
          ...(identity.externalId ? { ExternalId: identity.externalId } : {}),
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) {
        throw new Error(`sts:AssumeRole of ${roleArn} returned no credentials`);
      }
      cached = {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: new Date(c.Expiration) } : {}),
      };
      return cached;
    } catch (e) {
      const err = e as Error;
      const who = identity.profile ? `profile ${identity.profile}` : "the default credentials";
      const failure = new Error(
        `cannot assume ${roleArn} (aws:assumeRoles) with ${who}: ${err.name}: ${(err.message ?? "").split("\n")[0]}. Check the role's trust policy (and externalId), or run with credentials allowed sts:AssumeRole on it`,
      );
      failure.name = "CredentialsProviderError";
      throw failure;
    } finally {
      client.destroy();
    }
  };
  return { ...base, credentials };
}
