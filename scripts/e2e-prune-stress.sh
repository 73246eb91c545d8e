#!/usr/bin/env bash
# Do to the e2e suite's images what a busy shared engine does, in a loop,
# until stopped (SIGINT/SIGTERM), then print what it removed:
#
#   - `docker image prune -f`: dangling images (someone tidying up; a
#     rebuild's superseded image is dangling once its container is
#     replaced). By default only those descended from the rig's test base
#     images (label org.rebuildd.test.base), so a stress run on an engine
#     others share does not pull images from under their work; with --all,
#     every dangling image on the engine.
#   - `docker image rm` by ID, without -f, as a cleanup that thinks the
#     images unused does, of the images the suite keeps: every test's own
#     base image and the sidecar test's images (with --all also the shared
#     base rebuildd-test/busybox:latest). An image in use, or tagged for
#     someone else too, is refused by the engine, as it would be for anyone.
#
# Usage: scripts/e2e-prune-stress.sh [--all] [INTERVAL_SECONDS]   (default 1)
#   scripts/e2e-prune-stress.sh & stress=$!
#   go test -count=1 -timeout 60m ./...
#   kill $stress
set -u

prune=(--filter label=org.rebuildd.test.base)
shared=
if [ "${1:-}" = --all ]; then
	prune=()
	shared=1
	shift
fi
interval=${1:-1}
rounds=0 removed=0 refused=0

# rig_images lists the IDs of the rig's images that others may remove:
# the tests' own bases, the sidecar test's images, and with --all the shared
# base (not by default: tests of other checkouts on a shared engine may be
# copying it right now, and so may the old per-package pkg-* copies, never
# touched).
rig_images() {
	{
		if [ -n "$shared" ]; then
			docker image ls -q --no-trunc \
				--filter reference=rebuildd-test/busybox:latest --filter label=org.rebuildd.test 2>/dev/null
		fi
		docker image ls -q --no-trunc \
			--filter reference='rebuildd-test/busybox:t-*' --filter label=org.rebuildd.test.base 2>/dev/null
		docker image ls -q --no-trunc \
			--filter reference=rebuildd-sidecar-test --filter label=org.rebuildd.test.package 2>/dev/null
	} | sort -u
}

summary() {
	printf 'e2e-prune-stress: %d rounds, %d images removed or untagged, %d removals refused (in use)\n' \
		"$rounds" "$removed" "$refused" >&2
	exit 0
}
trap summary INT TERM

while :; do
	out=$(docker image prune -f "${prune[@]}" 2>&1)
	removed=$((removed + $(grep -c '^deleted: ' <<<"$out")))
	for id in $(rig_images); do
		if docker image rm "$id" >/dev/null 2>&1; then
			removed=$((removed + 1))
		else
			refused=$((refused + 1))
		fi
	done
	rounds=$((rounds + 1))
	sleep "$interval" &
	wait $! # so a signal ends the sleep at once
done
