#!/usr/bin/env bash
# Installs what rebuildd's tests need on a Debian machine, as root:
#   - busybox-static (the base image's only binary) and inotify-tools
#     (the watch-set-up reference in benchmarks), from apt;
#   - Compose v1 (Debian's docker-compose), from apt;
#   - Compose v2 as the docker CLI plugin, built from its Go module (it is not
#     a Debian package here) and cached, so a warm machine reuses the binary;
#   - the local base image rebuildd-test/busybox:latest (no registry here).
# Idempotent and quiet when everything is in place. docs/e2e.md explains the
# choices. The Docker Engine itself is not installed here: it comes with the
# machine. Without a reachable engine the base image step is skipped.
set -euo pipefail

# Newest v2.40.* the Go module proxy served when this was written. Bump both
# together with docs/e2e.md.
COMPOSE_V2_VERSION="${COMPOSE_V2_VERSION:-v2.40.3}"
BASE_IMAGE="rebuildd-test/busybox:latest"
CACHE_DIR="${REBUILDD_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rebuildd-test}"
APT_PACKAGES=(busybox-static inotify-tools docker-compose)

log() { printf 'install-test-deps: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# apt_install installs the missing packages only: `apt-get update` alone takes
# seconds, and a warm machine has them all.
apt_install() {
	local missing=() p
	for p in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: run this script as root (or apt-get install ${missing[*]})"
	log "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# plugin_dirs are where the docker CLI looks for plugins of this user. The
# CLI reads $DOCKER_CONFIG/cli-plugins when DOCKER_CONFIG is set, instead of
# ~/.docker/cli-plugins, so both get the plugin.
plugin_dirs() {
	echo "$HOME/.docker/cli-plugins"
	if [ -n "${DOCKER_CONFIG:-}" ] && [ "$DOCKER_CONFIG" != "$HOME/.docker" ]; then
		echo "$DOCKER_CONFIG/cli-plugins"
	fi
}

# build_compose_v2 builds the plugin from the module proxy into the cache.
# `go install module@version` refuses compose (its go.mod has exclude
# directives), so the module is copied out of the read-only module cache and
# built in place, with the version stamped the way compose's Makefile does.
build_compose_v2() {
	local out="$1" dir src
	command -v go >/dev/null || die "Go is needed to build Compose $COMPOSE_V2_VERSION (install Go 1.24+)"
	dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/docker/compose/v2@$COMPOSE_V2_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] && [ -d "$dir" ] || die "go mod download github.com/docker/compose/v2@$COMPOSE_V2_VERSION gave no directory"
	src="$CACHE_DIR/src/compose-$COMPOSE_V2_VERSION"
	rm -rf "$src"
	mkdir -p "$CACHE_DIR/src"
	cp -r "$dir" "$src"
	chmod -R u+w "$src"
	log "building Compose $COMPOSE_V2_VERSION from source (minutes when cold, seconds with a warm Go build cache)"
	(cd "$src" && GOWORK=off CGO_ENABLED=0 go build -trimpath \
		-ldflags "-w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_V2_VERSION" \
		-o "$out.tmp" ./cmd)
	mv "$out.tmp" "$out"
	rm -rf "$src"
}

install_compose_v2() {
	local bin="$CACHE_DIR/docker-compose-$COMPOSE_V2_VERSION" d want="${COMPOSE_V2_VERSION#v}"
	if [ "$(docker compose version --short 2>/dev/null || true)" = "$want" ]; then
		return 0
	fi
	mkdir -p "$CACHE_DIR"
	[ -x "$bin" ] || build_compose_v2 "$bin"
	for d in $(plugin_dirs); do
		mkdir -p "$d"
		install -m 0755 "$bin" "$d/docker-compose"
	done
	[ "$(docker compose version --short)" = "$want" ] ||
		die "docker compose version is not $want after installing into $(plugin_dirs | tr '\n' ' ')"
	log "Compose $COMPOSE_V2_VERSION installed as the docker compose plugin"
}

# install_base_image imports a rootfs of busybox and its applet links, then
# commits it with STOPSIGNAL SIGKILL (docker import --change refuses
# STOPSIGNAL): busybox httpd or sh as PID 1 ignore SIGTERM, so every stop
# would wait Docker's 10s timeout. internal/e2e builds the same image when
# it is missing; keep the two recipes alike.
install_base_image() {
	docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
	local root id ctr a
	root=$(mktemp -d)
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,proc,sys,dev,var,www,tmp}
	chmod 1777 "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list-full); do
		[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	id=$(tar -C "$root" --numeric-owner --owner=0 --group=0 -c . |
		docker import --change 'CMD ["sh"]' --change 'LABEL org.rebuildd.test=busybox' -)
	ctr=$(docker create --stop-signal SIGKILL "$id")
	docker commit "$ctr" "$BASE_IMAGE" >/dev/null
	docker rm -f "$ctr" >/dev/null
	rm -rf "$root"
	log "built $BASE_IMAGE"
}

main() {
	local start=$SECONDS
	apt_install
	if ! command -v docker >/dev/null; then
		log "no docker CLI on PATH: Compose v2 and the base image skipped (the e2e tests will skip)"
		return 0
	fi
	install_compose_v2
	# timeout: a socket that accepts but never answers must not hang the install.
	if timeout 60 docker info >/dev/null 2>&1; then
		install_base_image
	else
		log "no Docker engine reachable: base image not built (tests build it when they run)"
	fi
	log "ready in $((SECONDS - start))s: $(docker compose version --short) (v2), $(docker-compose version --short) (v1)"
}

main "$@"
