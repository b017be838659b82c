#!/bin/bash
# One fake for every build-host tool; test/support/fakeTools.ts links each tool's name to it.
# Records the call under $FAKE_LOG (tool, argv, stdin when read, environment), fails when
# $FAKE_FAIL says so, else answers as the real tool would for the buildspec's calls.
set -u
tool="${0##*/}"
shopt -s nullglob
earlier=("$FAKE_LOG"/*)
i=${#earlier[@]}
printf -v rec '%s/%06d' "$FAKE_LOG" "$i"
while ! mkdir "$rec" 2>/dev/null; do
  i=$((i + 1))
  printf -v rec '%s/%06d' "$FAKE_LOG" "$i"
done
printf '%s' "$tool" >"$rec/tool"
[ $# -eq 0 ] || printf '%s\0' "$@" >"$rec/argv"
touch "$rec/argv"
env -0 | grep -zv '^FAKE_' >"$rec/env" || true
for a in "$@"; do
  case "$a" in --password-stdin | -) cat >"$rec/stdin" && break ;; esac
done

line="$tool $*"
IFS='|' read -ra prefixes <<<"${FAKE_FAIL:-}"
for prefix in "${prefixes[@]}"; do
  if [ -n "$prefix" ] && [[ "$line" == "$prefix"* ]]; then
    echo "$tool: failed (FAKE_FAIL: $prefix)" >&2
    exit 1
  fi
done

# The value after a flag: value --output "$@".
value() {
  local flag="$1" prev=""
  shift
  for a in "$@"; do
    if [ "$prev" = "$flag" ]; then printf '%s' "$a"; fi
    prev="$a"
  done
}

case "$tool $*" in
  "docker buildx version"*) echo "github.com/docker/buildx v0.30.1 fake" ;;
  "docker buildx build "*)
    metadata="$(value --metadata-file "$@")"
    if [ -n "$metadata" ]; then
      printf '{\n  "containerimage.config.digest": "sha256:%s",\n  "containerimage.digest": "%s"\n}\n' \
        "$(printf 'cd%.0s' $(seq 32))" "$FAKE_DIGEST" >"$metadata"
    fi
    ;;
  "docker run "*)
    # buildkitd (run -d): listen on the bind-mounted run directory's socket, as the real one would.
    mount=""
    for a in "$@"; do
      case "$a" in *:/run/buildkit) mount="${a%%:*}" ;; esac
    done
    [ -n "$mount" ] || exit 0
    exec "$FAKE_NODE" -e 'require("net").createServer().listen(process.argv[1], () => process.exit(0))' \
      "$mount/buildkitd.sock"
    ;;
  "aws ecr get-login-password"*) echo fake-ecr-password ;;
  "curl "*) cp "$FAKE_COSIGN" "$(value --output "$@")" ;;
  "node "*) echo '{}' ;;
  "nvidia-smi "*) echo "GPU 0: Fake GPU (UUID: GPU-0)" ;;
  "uname -m"*) echo x86_64 ;;
  "uname"*) echo Linux ;;
esac
exit 0
