# rebuildd's own image: the static rebuildd binary, the Docker CLI and the
# Compose plugin it calls, on an empty base. For the sidecar mode
# (docs/sidecar.md):
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t rebuildd .
#
# It pulls golang and docker:cli from a registry. Without one, build the same
# image from local binaries: scripts/build-sidecar-image.sh.
#
# No "# syntax=" line: the cache mounts below are parsed by the Dockerfile
# frontend built into Docker 20.10 and later, and the line would make every
# build fetch a frontend image from Docker Hub.
#
# The build follows what rebuildd itself advises: the dependency layer
# (go.mod, go.sum, go mod download) comes before the source, and both the
# module and the build cache live in BuildKit cache mounts, so an edit to a
# .go file recompiles only what changed.

ARG GO_VERSION=1.26
# Where the Docker CLI and the Compose plugin come from: an official image
# that carries both (docker:<version>-cli has them under /usr/local).
ARG DOCKER_IMAGE=docker:28-cli

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Static binary: the runtime stage has no libc.
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/rebuildd ./cmd/rebuildd
# The runtime's skeleton: a HOME and /tmp any user can write (the CLIs keep
# their config and rebuildd its state under HOME, so `user:` can be anyone),
# users for `ps`/`id`, and the CA bundle for a TLS DOCKER_HOST.
RUN mkdir -p /rootfs/tmp /rootfs/home/rebuildd /rootfs/etc/ssl/certs \
 && chmod 1777 /rootfs/tmp /rootfs/home/rebuildd \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nrebuildd:x:1000:1000:rebuildd:/home/rebuildd:/sbin/nologin\n' > /rootfs/etc/passwd \
 && printf 'root:x:0:\nrebuildd:x:1000:\n' > /rootfs/etc/group

FROM ${DOCKER_IMAGE} AS docker

FROM scratch
COPY --from=build /rootfs/ /
COPY --from=docker /usr/local/bin/docker /usr/local/bin/docker
COPY --from=docker /usr/local/libexec/docker/cli-plugins/docker-compose /usr/local/libexec/docker/cli-plugins/docker-compose
COPY --from=build /out/rebuildd /usr/local/bin/rebuildd
ENV PATH=/usr/local/bin HOME=/home/rebuildd
# Root by default, because the docker socket is usually root:docker 0660.
# To run as another user, build with --build-arg RUN_AS=1000:1000 (or set
# `user:` in compose) and add the socket's group: group_add: ["<gid>"],
# the gid from `stat -c %g /var/run/docker.sock` on the host.
ARG RUN_AS=0:0
USER ${RUN_AS}
ENTRYPOINT ["rebuildd"]
