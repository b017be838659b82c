#!/usr/bin/env bash
# Prints an image's name through the stack's ECR pull-through cache, when a rule serves its upstream;
# else the name as given. A script, not a shell function of the buildspec: CodeBuild runs each
# buildspec command in its own shell, so a function defined in one command is gone in the next
# (see test/support/codebuild.ts).
#
# Usage: bash buildspec/pull-through.sh <image reference>
# Environment: PULL_THROUGH_ECR_PUBLIC, PULL_THROUGH_DOCKER_HUB (<registry>/<rule prefix>, optional).
# The names ECR documents: "<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<repository>:<tag>";
# "For Docker Hub official images, the /library prefix must be included". Same registry as
# REPOSITORY_URI, so the build's one login covers dockerd and BuildKit.
set -euo pipefail

ref="${1:?usage: pull-through.sh <image reference>}"
first="${ref%%/*}"
if [[ "$ref" == public.ecr.aws/* && -n "${PULL_THROUGH_ECR_PUBLIC:-}" ]]; then
  ref="$PULL_THROUGH_ECR_PUBLIC/${ref#public.ecr.aws/}"
elif [[ -n "${PULL_THROUGH_DOCKER_HUB:-}" ]]; then
  if [[ "$first" =~ ^(docker\.io|index\.docker\.io|registry-1\.docker\.io)$ ]]; then
    ref="${ref#*/}"
  elif [[ "$ref" == */* && ("$first" == *.* || "$first" == *:* || "$first" == localhost) ]]; then
    printf '%s\n' "$ref" # another registry: no rule for it
    exit 0
  fi
  [[ "$ref" == */* ]] || ref="library/$ref"
  ref="$PULL_THROUGH_DOCKER_HUB/$ref"
fi
printf '%s\n' "$ref"
