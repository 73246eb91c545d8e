#!/usr/bin/env bash
# Build rebuildd's sidecar image without a registry: the same image as the
# repository's Dockerfile (rebuildd, the Docker CLI and the Compose plugin on
# an empty base), assembled from what this machine already has:
#
#   - rebuildd, built here from this checkout (static, CGO_ENABLED=0);
#   - the docker CLI on PATH (or $DOCKER_CLI);
#   - the Compose v2 plugin the CLI uses (or $COMPOSE_PLUGIN).
#
# The files go into the image with `docker import`: no Dockerfile, no
# builder, no base image to pull, nothing from a registry. Binaries that are
# dynamically linked (Debian's docker.io CLI, say) bring the libraries ldd
# lists. Needs Linux, Go, GNU tar and a Docker engine.
#
# Usage: scripts/build-sidecar-image.sh [-t TAG] [--version V] [--run-as UID:GID] [--label K=V]...
#   -t, --tag       image tag (default rebuildd:latest, what examples/sidecar uses)
#   --version       version baked into rebuildd (default: git describe, else "dev")
#   --run-as        the image's user (default 0:0; see docs/sidecar.md, "Not root")
#   --label         an extra image label, repeatable
# Prints the image ID on stdout; progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'build-sidecar-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

tag=rebuildd:latest
version=
run_as=0:0
labels=()
while [ $# -gt 0 ]; do
	case "$1" in
	-t | --tag) tag=${2:?"$1 needs a value"}; shift 2 ;;
	--version) version=${2:?"$1 needs a value"}; shift 2 ;;
	--run-as) run_as=${2:?"$1 needs a value"}; shift 2 ;;
	--label) labels+=("${2:?"$1 needs a value"}"); shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done
if [ -z "$version" ]; then
	version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
fi

for tool in go tar ldd docker; do
	command -v "$tool" >/dev/null || die "$tool not found on PATH"
done

docker_cli=${DOCKER_CLI:-$(command -v docker)}

# compose_plugin finds the plugin `docker compose` runs: the CLI's own answer
# first, then the directories the CLI searches.
compose_plugin() {
	if [ -n "${COMPOSE_PLUGIN:-}" ]; then
		echo "$COMPOSE_PLUGIN"
		return
	fi
	local p
	p=$("$docker_cli" info --format '{{range .ClientInfo.Plugins}}{{if eq .Name "compose"}}{{.Path}}{{end}}{{end}}' 2>/dev/null || true)
	if [ -n "$p" ] && [ -x "$p" ]; then
		echo "$p"
		return
	fi
	for d in "${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins" /usr/local/lib/docker/cli-plugins \
		/usr/local/libexec/docker/cli-plugins /usr/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins; do
		if [ -x "$d/docker-compose" ]; then
			echo "$d/docker-compose"
			return
		fi
	done
}
plugin=$(compose_plugin)
[ -n "$plugin" ] || die "no Compose v2 plugin found (install it, or set COMPOSE_PLUGIN=/path/to/docker-compose)"
"$plugin" version >/dev/null 2>&1 || die "$plugin does not run"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# The runtime's skeleton, as in the Dockerfile: a HOME and /tmp any user can
# write (the CLIs keep their config and rebuildd its state under HOME), users
# for `ps`/`id`, and the CA bundle for a TLS DOCKER_HOST.
mkdir -p "$root"/{tmp,home/rebuildd,etc/ssl/certs,usr/local/bin,usr/local/libexec/docker/cli-plugins}
chmod 1777 "$root/tmp" "$root/home/rebuildd"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
fi
printf 'root:x:0:0:root:/root:/sbin/nologin\nrebuildd:x:1000:1000:rebuildd:/home/rebuildd:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nrebuildd:x:1000:\n' >"$root/etc/group"

log "building rebuildd $version"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" \
	-o "$root/usr/local/bin/rebuildd" ./cmd/rebuildd

# add_binary copies an executable and, when it is dynamically linked, its
# loader and libraries at the paths ldd gives.
add_binary() {
	local src=$1 dst=$2 lib
	install -m 0755 "$src" "$root$dst"
	if ! ldd "$src" >/dev/null 2>&1; then
		return # "not a dynamic executable"
	fi
	for lib in $(ldd "$src" | grep -o '/[^ ]* (0x' | sed 's/ (0x$//'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
log "adding $docker_cli and $plugin"
add_binary "$docker_cli" /usr/local/bin/docker
add_binary "$plugin" /usr/local/libexec/docker/cli-plugins/docker-compose

changes=(
	--change 'ENV PATH=/usr/local/bin'
	--change 'ENV HOME=/home/rebuildd'
	--change "USER $run_as"
	--change 'ENTRYPOINT ["rebuildd"]'
	--change "LABEL org.opencontainers.image.title=rebuildd"
	--change "LABEL org.opencontainers.image.version=$version"
)
for l in "${labels[@]}"; do
	changes+=(--change "LABEL $l")
done
log "importing $tag"
id=$(tar -C "$root" --numeric-owner --owner=0 --group=0 -c . | docker import "${changes[@]}" - "$tag")
echo "$id"
log "done: $tag, rebuildd $version (check: docker run --rm $tag version)"
