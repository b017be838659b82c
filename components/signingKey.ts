// The stack's image-signing identity: an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that only the stack's build roles may sign with.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface SigningKeyArgs {
  /** Stack name, for the alias and the description. */
  stack: string;
  /** The account that owns the key; its root administers it but may not sign. */
  accountId: pulumi.Input<string>;
  /** Days KMS keeps a deleted key recoverable (7 to 30). */
  deletionWindowInDays?: number;
  tags?: Record<string, string>;
}

/** What administrators may do: everything but use the key (kms:Sign/Verify are not here). */
const ADMIN_ACTIONS = [
  "kms:Create*",
  "kms:Describe*",
  "kms:Enable*",
  "kms:List*",
  "kms:Put*",
  "kms:Update*",
  "kms:Revoke*",
  "kms:Disable*",
  "kms:Get*",
  "kms:Delete*",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
];

/**
 * The key policy. KMS: "Unless the key policy explicitly allows it, you cannot use IAM policies to
 * allow access to a KMS key" — the root statement leaves out kms:Sign, so no IAM policy can grant
 * it; the signers are named here, and an explicit deny refuses kms:Sign to every other principal.
 */
export function signingKeyPolicy(a: { accountId: string; signerRoleArns: string[] }): object {
  const root = `arn:aws:iam::${a.accountId}:root`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AdministerNotSign",
        Effect: "Allow",
        Principal: { AWS: root },
        Action: ADMIN_ACTIONS,
        Resource: "*",
      },
      {
        Sid: "BuildRolesSign",
        Effect: "Allow",
        Principal: { AWS: a.signerRoleArns },
        Action: "kms:Sign",
        Resource: "*",
        Condition: { StringEquals: { "kms:SigningAlgorithm": "ECDSA_SHA_256" } },
      },
      {
        Sid: "BuildRolesReadPublicKey",
        Effect: "Allow",
        Principal: { AWS: a.signerRoleArns },
        Action: ["kms:GetPublicKey", "kms:DescribeKey"],
        Resource: "*",
      },
      {
        Sid: "NobodyElseSigns",
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "kms:Sign",
        Resource: "*",
        Condition: { ArnNotEquals: { "aws:PrincipalArn": a.signerRoleArns } },
      },
    ],
  };
}

/** The build role's statement: kms:Sign with this key and no other (the key policy names the role too). */
export function signingStatement(keyArn: string): object {
  return {
    Sid: "SignWithStackKey",
    Effect: "Allow",
    Action: ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"],
    Resource: keyArn,
  };
}

/**
 * Build variables buildspec/sign-and-attest.sh reads; a key ARN is not a secret. The BOM is always
 * attached: the build source always carries the bundled CLI (BuildSource builds it).
 */
export function signingEnvironment(keyArn: string) {
  return [
    { name: "SIGNING_KEY_ARN", value: keyArn },
    { name: "BOM_ATTACH", value: "true" },
  ];
}

export class SigningKey extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly keyArn: pulumi.Output<string>;
  /** PEM of the public half: what cosign verify and the Kyverno policy check signatures with. */
  readonly publicKeyPem: pulumi.Output<string>;
  private readonly name: string;
  private readonly accountId: pulumi.Input<string>;

  constructor(name: string, args: SigningKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:signing:SigningKey", name, {}, opts);
    const child = { parent: this };
    this.name = name;
    this.accountId = args.accountId;
    // No `policy` here: the key policy is its own resource (allowSigners), written once the build
    // roles exist, because KMS refuses a policy naming principals that do not exist yet.
    this.key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `model-images ${args.stack}: signs model images (cosign, awskms://)`,
        keyUsage: "SIGN_VERIFY",
        customerMasterKeySpec: "ECC_NIST_P256",
        deletionWindowInDays: args.deletionWindowInDays ?? 30,
        tags: args.tags,
      },
      child,
    );
    new aws.kms.Alias(
      `${name}-alias`,
      { name: `alias/model-images-${args.stack}-signing`, targetKeyId: this.key.keyId },
      child,
    );
    this.keyArn = this.key.arn;
    this.publicKeyPem = aws.kms.getPublicKeyOutput({ keyId: this.key.arn }, child).publicKeyPem;
    this.registerOutputs({ keyArn: this.keyArn, publicKeyPem: this.publicKeyPem });
  }

  /** The key policy naming exactly these roles as signers; builds must depend on it. */
  allowSigners(roleArns: pulumi.Input<string>[]): aws.kms.KeyPolicy {
    return new aws.kms.KeyPolicy(
      `${this.name}-policy`,
      {
        keyId: this.key.keyId,
        policy: pulumi
          .all([this.accountId, pulumi.all(roleArns)])
          .apply(([accountId, signerRoleArns]) =>
            JSON.stringify(signingKeyPolicy({ accountId, signerRoleArns })),
          ),
      },
      { parent: this },
    );
  }
}
