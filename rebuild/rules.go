package rebuild

import (
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// ruleResult is what a develop.watch rule says about one path.
type ruleResult struct {
	action dockerfile.Action // rebuild, restart, or none for sync-only rules
	sync   *docker.SyncOp
	exec   []string
	reason string
}

// matchRules applies a service's develop.watch rules to p, the first rule
// that names it winning, as compose watch does. ok is false when no rule
// names p (inference decides).
func matchRules(rules []config.WatchRule, p string) (ruleResult, bool) {
	for _, r := range rules {
		rel, ok := under(r.Path, p)
		if !ok || !ruleTakes(r, rel) {
			continue
		}
		res := ruleResult{action: dockerfile.ActionNone,
			reason: "develop.watch rule (" + r.Action + " " + r.Path + ")"}
		if strings.HasPrefix(r.Action, "sync") {
			res.sync = &docker.SyncOp{Host: p, Container: path.Join(r.Target, filepath.ToSlash(rel))}
		}
		switch r.Action {
		case "rebuild":
			res.action = dockerfile.ActionRebuild
		case "restart", "sync+restart":
			res.action = dockerfile.ActionRestart
		case "sync+exec":
			res.exec = r.Exec
		}
		return res, true
	}
	return ruleResult{}, false
}

// under returns p relative to dir ("." for dir itself) when p is inside.
func under(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

// ruleTakes applies the rule's ignore patterns and, when it has some, its
// include patterns, both relative to the rule's path.
func ruleTakes(r config.WatchRule, rel string) bool {
	rel = filepath.ToSlash(rel)
	if len(r.Ignore) > 0 {
		if m, err := patternmatcher.MatchesOrParentMatches(rel, r.Ignore); err == nil && m {
			return false
		}
	}
	if len(r.Include) > 0 {
		m, err := patternmatcher.MatchesOrParentMatches(rel, r.Include)
		return err == nil && m
	}
	return true
}
