package rebuild

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/docker"
)

// After a rebuild caused by deps or the Dockerfile, an anonymous volume
// that hides files the new image has at its path (the node_modules trap)
// is refreshed from the new image, and no other volume is touched
// (docs/design.md, "Volumes after a rebuild"). This file decides which
// volumes those are and refreshes them; compose's --renew-anon-volumes is
// used only when it renews nothing else.

// volumeFate is what happens to one volume of one container.
type volumeFate struct {
	container docker.Container
	mount     docker.Mount
	anonymous bool   // --renew-anon-volumes would give the container a new one
	refresh   bool   // it hides the new image's files: refreshed from the image
	warn      bool   // kept although the new image has files at its path
	why       string // why it is refreshed or kept
	failed    error  // the refresh failed: the volume keeps what it held
}

// volumePlan is what happens to a service's volumes when it is recreated
// with a new image.
type volumePlan struct {
	service string
	image   string // the new image's ID
	fates   []volumeFate
}

// renewAll: compose's --renew-anon-volumes does exactly the refresh:
// every anonymous volume of the service hides the new image's files.
func (p *volumePlan) renewAll() bool {
	some := false
	for _, f := range p.fates {
		if f.anonymous && !f.refresh {
			return false
		}
		some = some || f.refresh
	}
	return some
}

// refreshes: some volume must be refreshed by rebuildd itself.
func (p *volumePlan) refreshes() bool {
	return slices.ContainsFunc(p.fates, func(f volumeFate) bool { return f.refresh }) && !p.renewAll()
}

// classifyVolumes decides the fate of each volume a container mounts.
// anon are the service's anonymous volumes in the compose file (container
// paths), declared the paths the new image declares with VOLUME,
// populated whether the new image has files at a path. A VOLUME's content
// is data even where the image puts files (a seeded database): it is kept,
// with a warning when the image has files there, since the rule is never
// to lose data when in doubt.
func classifyVolumes(c docker.Container, mounts []docker.Mount, anon, declared []string, populated map[string]bool) []volumeFate {
	var out []volumeFate
	for _, m := range mounts {
		f := volumeFate{container: c, mount: m}
		inCompose, isVolume := slices.Contains(anon, m.Path), slices.Contains(declared, m.Path)
		switch {
		case isVolume && (inCompose || docker.Anonymous(m.Volume)):
			f.anonymous = true
			f.why = "the image declares " + m.Path + " with VOLUME: its content is data"
			if populated[m.Path] {
				f.warn = true
				f.why += "; the files the new image has there are not copied in"
			}
		case inCompose && populated[m.Path]:
			f.anonymous, f.refresh = true, true
			f.why = "it hides the files the new image has at " + m.Path
		case inCompose:
			f.anonymous = true
			f.why = "the new image has no files at " + m.Path + ": what the volume holds is the container's own"
		case docker.Anonymous(m.Volume):
			f.anonymous = true
			f.why = "an anonymous volume neither in the compose file nor declared by the new image"
		default:
			f.why = "a named volume"
		}
		out = append(out, f)
	}
	return out
}

// probePaths are the paths whose content in the new image decides a fate:
// the compose file's anonymous volumes, and the mounted VOLUMEs (for the
// warning).
func probePaths(mounts [][]docker.Mount, anon, declared []string) []string {
	var out []string
	for _, ms := range mounts {
		for _, m := range ms {
			if (slices.Contains(anon, m.Path) || slices.Contains(declared, m.Path)) && !slices.Contains(out, m.Path) {
				out = append(out, m.Path)
			}
		}
	}
	slices.Sort(out)
	return out
}

// planVolumes asks the engine what the service's containers mount now
// (the build took a while: the list is asked again) and what the new image
// has at those paths. Without a Volumes engine nothing is refreshed (and
// nothing renewed): keeping is never wrong for data. An engine that does
// not answer is an error; any other failure to look is logged, and the
// recreate keeps every volume.
func (x *run) planVolumes(ctx context.Context, service string, img *docker.Image) (*volumePlan, error) {
	p := &volumePlan{service: service}
	if x.r.Volumes == nil || img == nil {
		return p, nil
	}
	p.image = img.ID
	err := x.lookAtVolumes(ctx, p)
	var down *docker.UnreachableError
	switch {
	case errors.As(err, &down):
		return nil, err
	case err != nil:
		x.r.Log.Warn("volumes not checked: every volume is kept, and one that hides the new image's files keeps its old content",
			zap.String("service", service), zap.Error(err),
			zap.String("fix", "when no anonymous volume of "+service+" holds data: "+x.composeLine("up", "-d", "--renew-anon-volumes", service)))
		p.fates = nil
	}
	return p, nil
}

// lookAtVolumes fills p.fates.
func (x *run) lookAtVolumes(ctx context.Context, p *volumePlan) error {
	v, anon := x.r.Volumes, x.inputs[p.service].AnonVolumes
	all, err := x.r.Engine.Containers(ctx, x.r.Project.Name)
	if err != nil {
		return err
	}
	var cs []docker.Container
	var mounts [][]docker.Mount
	for _, c := range all {
		if c.Service != p.service {
			continue
		}
		ms, err := v.Mounts(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("volumes of %s: %w", c.Name, err)
		}
		if len(ms) > 0 {
			cs, mounts = append(cs, c), append(mounts, ms)
		}
	}
	if len(cs) == 0 {
		return nil
	}
	declared, err := v.ImageVolumes(ctx, p.image)
	if err != nil {
		return err
	}
	populated := map[string]bool{}
	if paths := probePaths(mounts, anon, declared); len(paths) > 0 {
		if populated, err = v.Populated(ctx, x.r.Project.Name, p.image, paths); err != nil {
			return err
		}
	}
	for i, c := range cs {
		p.fates = append(p.fates, classifyVolumes(c, mounts[i], anon, declared, populated)...)
	}
	return nil
}

// refreshVolumes stops each container with a volume to refresh and
// refreshes it from the new image, before compose recreates the container
// (which carries the volumes over). It is never cancelled half-way; its
// time is Docker's, counted in the recreate's (run.up). A
// failure leaves that volume as it was, and is logged with the commands
// that do the refresh by hand.
func (x *run) refreshVolumes(ctx context.Context, p *volumePlan) {
	ctx = context.WithoutCancel(ctx)
	v := x.r.Volumes
	stopErr := map[string]error{}
	stopped := map[string]bool{}
	for i := range p.fates {
		f := &p.fates[i]
		if !f.refresh {
			continue
		}
		id := f.container.ID
		if !stopped[id] {
			stopped[id] = true
			stopErr[id] = v.StopContainer(ctx, id)
		}
		if f.failed = stopErr[id]; f.failed == nil {
			f.failed = v.RefreshVolume(ctx, x.r.Project.Name, p.image, f.mount.Volume, f.mount.Path)
		}
	}
}

// logVolumes says, one line per volume, what happened to it and why.
// renewed: compose's --renew-anon-volumes did the refresh.
func (x *run) logVolumes(p *volumePlan, renewed bool) {
	for _, f := range p.fates {
		fields := []zap.Field{zap.String("service", p.service), zap.String("container", f.container.Name),
			zap.String("volume", f.mount.Volume), zap.String("path", f.mount.Path)}
		switch {
		case f.refresh && f.failed != nil:
			x.r.Log.Warn("volume", append(fields, zap.String("action", "kept"),
				zap.String("why", f.why+", but it could not be refreshed, so it keeps its old content: "+f.failed.Error()),
				zap.String("fix", refreshCommand(f, p.image)))...)
		case f.refresh && renewed:
			x.r.Log.Info("volume", append(fields, zap.String("action", "refreshed"), zap.String("why", f.why+" (--renew-anon-volumes: every anonymous volume of the service does)"))...)
		case f.refresh:
			x.r.Log.Info("volume", append(fields, zap.String("action", "refreshed"), zap.String("why", f.why))...)
		case f.warn:
			x.r.Log.Warn("volume", append(fields, zap.String("action", "kept"), zap.String("why", f.why))...)
		default:
			x.r.Log.Info("volume", append(fields, zap.String("action", "kept"), zap.String("why", f.why))...)
		}
	}
}

// refreshCommand does by hand what a failed refresh did not: empty the
// volume with any image that has a shell, then let the engine fill it
// from the new image by creating (never starting) a container of it.
func refreshCommand(f volumeFate, image string) string {
	c, vol, img := f.container.Name, f.mount.Volume, docker.ShortID(image)
	return fmt.Sprintf("docker stop %s && docker run --rm -v %s:/v busybox sh -c 'rm -rf /v/* /v/.[!.]* /v/..?*' && "+
		"docker rm -v $(docker create -v %s:%s %s true) && docker start %s", c, vol, vol, f.mount.Path, img, c)
}

// composeLine is the user's Compose command for sub, for a message.
func (x *run) composeLine(sub ...string) string {
	if cli, ok := x.r.Runner.(docker.CommandLine); ok {
		if args := cli.Args(sub...); len(args) > 0 {
			return strings.Join(args, " ")
		}
	}
	return "docker compose " + strings.Join(sub, " ")
}
