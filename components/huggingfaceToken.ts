// The HuggingFace token in Secrets Manager, so CodeBuild reads it as a SECRETS_MANAGER variable, never as text.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface HuggingfaceTokenArgs {
  /** The token, from `config.requireSecret("huggingface-token")`: a Pulumi secret end to end. */
  token: pulumi.Input<string>;
  /** Days Secrets Manager keeps a deleted secret (0 deletes at once; dev). */
  recoveryWindowInDays: number;
  tags?: Record<string, string>;
}

export class HuggingfaceToken extends pulumi.ComponentResource {
  readonly secret: aws.secretsmanager.Secret;
  readonly secretArn: pulumi.Output<string>;

  constructor(name: string, args: HuggingfaceTokenArgs, opts?: pulumi.ComponentResourceOptions) {
    super("model-images:secrets:HuggingfaceToken", name, {}, opts);
    this.secret = new aws.secretsmanager.Secret(
      `${name}-secret`,
      {
        description: "HuggingFace access token for model-images builds (gated models)",
        recoveryWindowInDays: args.recoveryWindowInDays,
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-version`,
      { secretId: this.secret.id, secretString: pulumi.secret(args.token) },
      { parent: this, additionalSecretOutputs: ["secretString"] },
    );
    this.secretArn = this.secret.arn;
    this.registerOutputs({ secretArn: this.secretArn });
  }
}
