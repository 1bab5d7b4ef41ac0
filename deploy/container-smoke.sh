#!/usr/bin/env bash
# Builds a FROM-scratch image around a locally built static tokend with podman, starts it and
# checks /healthz, the non-root user and the first-start credentials file.
#
# Exit 0: exercised and passed. Exit 77: not exercised, because no way this machine offers can
# start a container (the reason is printed); the image build itself must still succeed.
# Anything else: a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v podman >/dev/null || { echo "container-smoke: podman is not installed" >&2; exit 77; }

work="$(mktemp -d)"
tag="localhost/tokend-smoke:$$"
name="tokend-smoke-$$"
cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman rmi -f "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/ctx/data" "$work/state"
CGO_ENABLED=0 go build -o "$work/ctx/tokend" ./cmd/tokend
if file "$work/ctx/tokend" 2>/dev/null | grep -q dynamically; then
  echo "container-smoke: the binary is dynamically linked" >&2
  exit 1
fi
cp deploy/Containerfile.scratch "$work/ctx/Containerfile"
podman build --quiet -t "$tag" "$work/ctx" >/dev/null

# Container runtimes differ in what a sandboxed host lets them do: try the defaults first, then
# runc with rlimits no higher than the host's and the host's cgroups (what this CI machine, a
# VM with hybrid cgroups and a low RLIMIT_NOFILE ceiling, needs).
runopts=""
for opts in "" "--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"; do
  # shellcheck disable=SC2086
  if out="$(podman run --rm --network=host $opts "$tag" version 2>&1)"; then
    runopts="$opts"
    found=1
    break
  fi
  reason="$out"
done
if [ -z "${found:-}" ]; then
  echo "container-smoke: NOT EXERCISED: the image builds, but no runtime here can start a container: $reason" >&2
  exit 77
fi
echo "container-smoke: runtime options: ${runopts:-(defaults)}"

chown 65532:65532 "$work/state"
chmod 0700 "$work/state"
# shellcheck disable=SC2086
podman run -d --name "$name" --network=host $runopts -e TOKEND_ADDR=127.0.0.1:0 \
  -v "$work/state:/var/lib/tokend" "$tag" >/dev/null

addr=""
for _ in $(seq 1 100); do
  addr="$(podman logs "$name" 2>&1 | jq -rR 'fromjson? | select(.msg == "serving") | .addr' 2>/dev/null | head -n1 || true)"
  [ -n "$addr" ] && break
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "container-smoke: tokend did not start; its log:" >&2
  podman logs "$name" >&2 || true
  exit 1
fi

body="$(curl -fsS --max-time 5 "http://$addr/healthz")"
echo "$body" | jq -e '.data.status == "ok"' >/dev/null || { echo "container-smoke: /healthz said $body" >&2; exit 1; }
curl -fsS --max-time 5 "http://$addr/readyz" | jq -e '.data.status == "ready"' >/dev/null

pid="$(podman inspect "$name" --format '{{.State.Pid}}')"
uid="$(awk '/^Uid:/ {print $3}' "/proc/$pid/status")"
[ "$uid" = "65532" ] || { echo "container-smoke: tokend runs as uid $uid, want 65532" >&2; exit 1; }

creds="$work/state/initial-credentials"
[ "$(stat -c '%a %u' "$creds")" = "600 65532" ] || { echo "container-smoke: credentials file: $(stat -c '%a %u' "$creds")" >&2; exit 1; }
if podman logs "$name" 2>&1 | grep -q 'dbtu_'; then
  echo "container-smoke: a token reached the container log" >&2
  exit 1
fi

podman stop -t 30 "$name" >/dev/null
code="$(podman inspect "$name" --format '{{.State.ExitCode}}')"
[ "$code" = "0" ] || { echo "container-smoke: exit code $code after SIGTERM, want 0" >&2; exit 1; }
size="$(podman image inspect "$tag" --format '{{.Size}}')"
echo "container-smoke: OK: FROM scratch image ($((size / 1024 / 1024)) MiB) served /healthz and /readyz at $addr as uid 65532, credentials file 0600, clean stop"
