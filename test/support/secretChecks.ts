// Secret checks over recorded resources and outputs: where a value appears outside Pulumi's secret envelope.

import type { Recorded } from "../../tools/pulumiMocks";

/** Pulumi's marker for a secret value on the wire (sdk/nodejs/runtime/rpc.ts specialSigKey/specialSecretSig). */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** `value` as Pulumi puts a secret on the wire. */
export function secretEnvelope(value: unknown): Record<string, unknown> {
  return { [SECRET_SIG]: SECRET_SIG_VALUE, value };
}

/** "type name path" of every recorded input where `needle` appears outside a secret envelope. */
export function plaintextInputs(recorded: Recorded[], needle: string): string[] {
  return recorded.flatMap((r) =>
    plaintextPaths(r.inputs, needle).map((p) => `${r.type} ${r.name} ${p}`),
  );
}

/** Paths where `needle` appears outside a secret envelope. */
export function plaintextPaths(value: unknown, needle: string, at = "$"): string[] {
  if (typeof value === "string") {
    return value.includes(needle) ? [at] : [];
  }
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => plaintextPaths(v, needle, `${at}[${i}]`));
  }
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SECRET_SIG] === SECRET_SIG_VALUE) {
      return [];
    }
    return Object.entries(obj).flatMap(([k, v]) => plaintextPaths(v, needle, `${at}.${k}`));
  }
  return [];
}
