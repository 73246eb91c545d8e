package docker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/pkg/stdcopy"
)

// LabelThrowaway marks the short-lived containers rebuildd creates to look
// into an image or refresh a volume; its value is the compose project.
// Their compose labels are blank, so compose never sees them as the
// project's, and each is removed (with its anonymous volumes) as soon as
// it has served: `docker ps -a --filter label=io.rebuildd.throwaway`
// finds one a killed rebuildd left behind.
const LabelThrowaway = "io.rebuildd.throwaway"

// stopDefaults: the container's own stop signal and grace period
// (compose's stop_signal and stop_grace_period), as `docker stop` uses.
var stopDefaults = container.StopOptions{}

// throwawaySpec describes one throwaway container.
type throwawaySpec struct {
	project, purpose, image string
	entrypoint              []string // nil: created only, never started
	volume, at              string   // a volume to mount at a path; "" for none
	noCopy                  bool     // mount it without the engine's copy of the image's files
}

// throwaway creates a container of the image: without a network, as root
// (so it may remove any file of a volume), with a command that is never
// run unless spec.entrypoint replaces it (an image without CMD cannot be
// created otherwise).
func (e *DockerEngine) throwaway(ctx context.Context, spec throwawaySpec) (string, error) {
	// Compose v2 labels the images it builds with the project and service,
	// and a container inherits its image's labels: blank them, or compose
	// (and rebuildd) would count the throwaway as one of the service's.
	labels := map[string]string{LabelThrowaway: spec.project, labelProject: "", labelService: ""}
	cfg := &container.Config{Image: spec.image, User: "0:0", Labels: labels,
		Cmd: []string{"rebuildd-" + spec.purpose}, NetworkDisabled: true}
	if spec.entrypoint != nil {
		cfg.Entrypoint, cfg.Cmd = spec.entrypoint, nil
	}
	host := &container.HostConfig{NetworkMode: "none"}
	if spec.volume != "" {
		host.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: spec.volume, Target: spec.at,
			VolumeOptions: &mount.VolumeOptions{NoCopy: spec.noCopy}}}
	}
	name := "rebuildd-" + spec.purpose + "-" + randomSuffix()
	c, err := e.cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if err != nil {
		return "", e.unreachable(fmt.Errorf("create container %s of image %s: %w", name, ShortID(spec.image), err))
	}
	return c.ID, nil
}

// discard removes a throwaway container and the anonymous volumes the
// engine made for it (its image's VOLUMEs), even after ctx ends. A
// mounted named volume, and the volume a refresh works on is mounted by
// name, is never removed with it (the engine keeps volumes a container
// names).
func (e *DockerEngine) discard(ctx context.Context, id string) {
	_ = e.cli.ContainerRemove(context.WithoutCancel(ctx), id, container.RemoveOptions{Force: true, RemoveVolumes: true})
}

// runToEnd starts a throwaway container and waits for its command to end;
// a non-zero exit is an error carrying the end of its output.
func (e *DockerEngine) runToEnd(ctx context.Context, id string) error {
	waitC, errC := e.cli.ContainerWait(ctx, id, container.WaitConditionNextExit)
	if err := e.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		if strings.Contains(err.Error(), "executable file not found") || strings.Contains(err.Error(), "no such file or directory") {
			return fmt.Errorf("the image has no sh to run it with: %w", err)
		}
		return e.unreachable(fmt.Errorf("start container %s: %w", ShortID(id), err))
	}
	select {
	case err := <-errC:
		return e.unreachable(fmt.Errorf("wait for container %s: %w", ShortID(id), err))
	case st := <-waitC:
		if st.Error != nil {
			return fmt.Errorf("wait for container %s: %s", ShortID(id), st.Error.Message)
		}
		if st.StatusCode != 0 {
			return fmt.Errorf("exit code %d: %s", st.StatusCode, e.outputOf(ctx, id))
		}
	}
	return nil
}

// outputOf is the last lines a container wrote, for an error message.
func (e *DockerEngine) outputOf(ctx context.Context, id string) string {
	rc, err := e.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "5"})
	if err != nil {
		return "(no output: " + err.Error() + ")"
	}
	defer rc.Close()
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &out, rc)
	return strings.TrimSpace(out.String())
}

// randomSuffix makes a throwaway's name unique among every rebuildd (and
// test) on the engine.
func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
