#!/usr/bin/env bash
# Runs right after the push, from the build source root: signs the pushed digest with cosign and the
# stack's KMS key, then attaches the image's CycloneDX BOM to that digest as an OCI referrer.
#
# Usage: bash buildspec/sign-and-attest.sh <repository-uri> <sha256:digest>
# Environment (set by the CodeBuild project):
#   SIGNING_KEY_ARN   ARN of the stack's KMS signing key; empty: the stack does not sign (signing: none)
#   BOM_ATTACH        true: the source archive carries the bundled CLI (dist/model-images.js); attach the BOM
#   AWS_DEFAULT_REGION
# Any failure exits non-zero, so the build (and `pulumi up`) fails: an image the stack should sign is
# never left looking like a successful build. The image is already pushed by then; KServe clusters
# running the Kyverno policy refuse it until a build signs it.
set -euo pipefail

repository="${1:?usage: sign-and-attest.sh <repository-uri> <digest>}"
digest="${2:?usage: sign-and-attest.sh <repository-uri> <digest>}"
ref="$repository@$digest"

# cosign is installed from its GitHub release, pinned by version and by the sha256 of the binary.
COSIGN_VERSION="v3.1.3"
COSIGN_SHA256_AMD64="4629c757b7618056f8ddd7e2625ae9fdd94c0372a65049520bc7d9df9efc7f71"
COSIGN_SHA256_ARM64="c5d324e091826b0d7a78eb16fef316450b4eb9aaec045611c08ba06f5e73220a"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "sign-and-attest: $*" >&2
  exit 1
}

install_cosign() {
  local arch sum
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 sum="$COSIGN_SHA256_AMD64" ;;
    aarch64 | arm64) arch=arm64 sum="$COSIGN_SHA256_ARM64" ;;
    *) fail "no pinned cosign $COSIGN_VERSION checksum for machine $(uname -m); add one to buildspec/sign-and-attest.sh" ;;
  esac
  mkdir -p "$work/bin"
  curl --proto '=https' --tlsv1.2 --fail --silent --show-error --location --retry 3 \
    --output "$work/bin/cosign" \
    "https://github.com/sigstore/cosign/releases/download/$COSIGN_VERSION/cosign-linux-$arch" ||
    fail "could not download cosign $COSIGN_VERSION (linux-$arch) from GitHub; the build host needs HTTPS access to github.com"
  # Checked before it is ever made executable.
  echo "$sum  $work/bin/cosign" | sha256sum --check --strict --quiet - ||
    fail "cosign-linux-$arch $COSIGN_VERSION does not have the pinned sha256 $sum; refusing to run it"
  chmod 0755 "$work/bin/cosign"
}

if [ -n "${SIGNING_KEY_ARN:-}" ]; then
  install_cosign
  # Classic signature (`sha256-<hex>.sig` tag), which Kyverno's Cosign verifier reads, and no
  # transparency-log upload: the images are private. cosign 3 accepts --tlog-upload=false only
  # with --use-signing-config=false (sigstore/cosign#4778, #5043).
  "$work/bin/cosign" sign --yes \
    --key "awskms:///$SIGNING_KEY_ARN" \
    --new-bundle-format=false --use-signing-config=false --tlog-upload=false \
    "$ref" || fail "cosign could not sign $ref with awskms:///$SIGNING_KEY_ARN; nothing else was attached. Check that this build's role may kms:Sign with that key"
  echo "sign-and-attest: signed $ref with awskms:///$SIGNING_KEY_ARN"
else
  echo "sign-and-attest: SIGNING_KEY_ARN is empty (signing: none): $ref is not signed"
fi

if [ "${BOM_ATTACH:-false}" != true ]; then
  echo "sign-and-attest: BOM_ATTACH is not true: no BOM attached to $ref"
  exit 0
fi

# The provenance and the model card from the pushed image. After a build the builder has just built
# its layers, so BuildKit serves them from its cache instead of pulling the model again; a
# SIGN_ONLY_DIGEST build (signing an image pushed earlier) pulls them from the repository.
mkdir -p "$work/context" "$work/meta"
printf 'FROM scratch\nCOPY --from=modelcar /models/.provenance.json /models/README.m[d] /\n' |
  docker buildx build --progress=plain --provenance=false --sbom=false \
    --build-context "modelcar=docker-image://$ref" \
    --output "type=local,dest=$work/meta" --file - "$work/context" ||
  fail "could not read /models/.provenance.json from $ref"

# The registry login for the CLI: ECR's Distribution API takes Basic AWS:<token>. Only this
# process's environment holds it; it is never echoed.
REGISTRY_USERNAME=AWS
REGISTRY_PASSWORD="$(aws ecr get-login-password --region "$AWS_DEFAULT_REGION")"
export REGISTRY_USERNAME REGISTRY_PASSWORD
node dist/model-images.js bom --provenance "$work/meta/.provenance.json" --image "$ref" --attach \
  >"$work/bom.cdx.json" || fail "could not attach the BOM to $ref"
echo "sign-and-attest: BOM of $ref ($(wc -c <"$work/bom.cdx.json") bytes) attached"
