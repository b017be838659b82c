// Does an IAM policy document allow an action on a resource ARN? Enough of IAM's matching for the
// deployer policy's test: Allow statements, Action/Resource lists, `*` and `?` wildcards.

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

export interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

/** One permission something needs: an action on a resource ARN, and who needs it. */
export interface Need {
  action: string;
  resource: string;
  /** e.g. `aws:iam/role:Role models-qwen-role`. */
  by: string;
}

const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

/** IAM's wildcard match: `*` any run of characters, `?` one; actions compare case-insensitively. */
export function iamMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, ignoreCase ? "i" : "").test(value);
}

/** The statements that allow this action on this resource (no Deny in the document). */
export function allowing(policy: PolicyDocument, action: string, resource: string): Statement[] {
  return policy.Statement.filter(
    (s) =>
      s.Effect === "Allow" &&
      list(s.Action).some((a) => iamMatch(a, action, true)) &&
      list(s.Resource).some((r) => iamMatch(r, resource)),
  );
}

/** Every need the policy does not allow, as a line naming the action, the ARN and who needs it. */
export function missingGrants(policy: PolicyDocument, needs: readonly Need[]): string[] {
  return needs
    .filter((n) => allowing(policy, n.action, n.resource).length === 0)
    .map((n) => `${n.action} on ${n.resource} (for ${n.by})`);
}

/** Actions the policy grants that no need uses: least privilege means none. */
export function unusedActions(policy: PolicyDocument, needs: readonly Need[]): string[] {
  const out: string[] = [];
  for (const s of policy.Statement) {
    for (const a of list(s.Action)) {
      if (
        !needs.some(
          (n) =>
            iamMatch(a, n.action, true) && list(s.Resource).some((r) => iamMatch(r, n.resource)),
        )
      ) {
        out.push(`${s.Sid ?? "(no Sid)"}: ${a}`);
      }
    }
  }
  return out;
}
