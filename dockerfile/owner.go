package dockerfile

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// Owner is who owns a file a COPY or ADD put in the image.
//
// BuildKit (llb.WithUser and the file op's readUser, the same in Docker
// 20.10's BuildKit 0.8 and today's) reads --chown=user[:group] this way:
// "root" and decimal numbers are ids, and so is an empty name (as 0: llb
// marshals a UserOpt without a name by id); a numeric user alone sets the
// group to the same number; a user name is looked up in the stage's /etc/passwd
// (uid and primary gid) and a group name in its /etc/group, and a name that
// is not there silently counts as 0 for a user and changes nothing for a
// group. Without --chown the file belongs to 0:0 whoever owns it on the
// host (the client sends the context with uid and gid reset).
type Owner struct {
	Chown string `json:"chown,omitempty"` // --chown as expanded; "" when none
	// UID and GID are the ids, final unless User or Group is set: then
	// they are what Resolve starts from.
	UID int `json:"uid"`
	GID int `json:"gid"`
	// User and Group are names to look up in the container's /etc/passwd
	// and /etc/group (Resolve); "" when numeric or not given. The container
	// has the /etc/passwd the COPY saw: no RUN runs after a syncable COPY.
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`

	gidGiven bool // the group was given as a number: a user name's primary gid does not replace it
}

// Known reports whether UID and GID are final without reading the
// container's user database.
func (o Owner) Known() bool { return o.User == "" && o.Group == "" }

// parseChown reads --chown as llb.WithUser does.
func parseChown(s string) Owner {
	o := Owner{Chown: s}
	if s == "" {
		return o
	}
	user, group, hasGroup := strings.Cut(s, ":")
	if id, ok := chownID(user); ok {
		o.UID, o.GID = id, id
	} else if user != "" {
		o.User = user
	}
	if hasGroup {
		if id, ok := chownID(group); ok {
			o.GID, o.gidGiven = id, true
		} else if group != "" {
			o.Group = group
		} else {
			o.GID, o.gidGiven = 0, true // "7:": an empty name goes to the engine as id 0 (seen on 20.10)
		}
	}
	return o
}

// chownID is llb's parseUID: "root" is 0, else a decimal int32.
func chownID(s string) (int, bool) {
	if s == "root" {
		return 0, true
	}
	id, err := strconv.ParseInt(s, 10, 32)
	return int(id), err == nil
}

// Resolve gives the final uid and gid from the container's /etc/passwd and
// /etc/group (either may be nil: a missing file finds no name, as in
// BuildKit). The first line with the name wins.
func (o Owner) Resolve(passwd, group []byte) (uid, gid int) {
	uid, gid = o.UID, o.GID
	if o.User != "" {
		uid, gid = 0, 0
		if f, ok := lookupName(passwd, o.User, 2, 3); ok {
			uid, gid = f[0], f[1]
		}
		if o.gidGiven {
			gid = o.GID
		}
	}
	if o.Group != "" {
		if f, ok := lookupName(group, o.Group, 2); ok {
			gid = f[0]
		}
	}
	return uid, gid
}

// lookupName finds the first line of a colon-separated database whose first
// field is name and returns the numeric fields at the given positions,
// parsed as moby/sys/user does (space trimmed, bad numbers read as 0).
func lookupName(db []byte, name string, fields ...int) ([]int, bool) {
	s := bufio.NewScanner(bytes.NewReader(db))
	for s.Scan() {
		parts := strings.Split(string(bytes.TrimSpace(s.Bytes())), ":")
		if parts[0] != name || parts[0] == "" {
			continue
		}
		out := make([]int, len(fields))
		for i, f := range fields {
			if f < len(parts) {
				out[i], _ = strconv.Atoi(parts[f])
			}
		}
		return out, true
	}
	return nil, false
}
