package advice

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// secretBuildArgs reports ARGs of chain stages whose name or value looks
// like a secret. A build arg in scope of a RUN is recorded in the image's
// history (`docker history` prints it) and in the build cache, so anyone
// with the image has it. Args compose passes but no stage declares are not
// recorded, so they are not reported.
func secretBuildArgs(s *subject) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, st := range s.doc.stages {
		if !s.chain[st.index] {
			continue
		}
		for _, in := range st.instrs {
			for _, kv := range in.args {
				if seen[kv.Key] {
					continue
				}
				why := s.secretWhy(kv.Key, kv.Value)
				if why == "" {
					continue
				}
				seen[kv.Key] = true
				out = append(out, s.secretFinding(in, kv.Key, why))
			}
		}
	}
	return out
}

// secretWhy says why an arg looks secret, "" when it does not. The value is
// the compose arg when compose passes one, else the Dockerfile default.
func (s *subject) secretWhy(name string, def *string) string {
	if secretName(name) {
		return "by its name"
	}
	v, ok := s.svc.Build.Args[name]
	if !ok && def != nil {
		v = *def
	}
	if why := secretValue(v); why != "" {
		return "its value " + why
	}
	return ""
}

func (s *subject) secretFinding(arg *instr, name, why string) Finding {
	file, line := s.at(arg.line)
	msg := fmt.Sprintf("build arg %s looks like a secret (%s): build args are recorded in the image, so `docker history` shows it to anyone who has the image", name, why)
	if _, ok := s.svc.Build.Args[name]; ok {
		cf, cl := s.composeFind([]string{"build", "args"}, argItem(name))
		msg += fmt.Sprintf("; compose passes it at %s", s.place(cf, cl))
	}
	id := strings.ToLower(name)
	flags, use := "", "your-command"
	if run := s.runUsing(arg, name); run != nil {
		use = strings.Join(strings.Fields(run.shell), " ")
		if len(run.flags) > 0 {
			flags = strings.Join(run.flags, " ") + " "
		}
	}
	fix := fmt.Sprintf(`remove the ARG and pass a build secret instead; in the compose file:
  build:
    secrets: [%[1]s]
secrets:
  %[1]s:
    environment: %[2]s
and in the Dockerfile, on the RUN that needs it:
RUN %[4]s--mount=type=secret,id=%[1]s export %[2]s="$(cat /run/secrets/%[1]s)" && %[3]s
(build secrets need BuildKit and Compose v2)`, id, name, use, flags)
	return Finding{Code: CodeSecretBuildArg, Severity: Warn, File: file, Line: line, Message: msg, Fix: fix}
}

// runUsing returns the first RUN after the ARG that mentions the arg.
func (s *subject) runUsing(arg *instr, name string) *instr {
	ref := regexp.MustCompile(`\$\{?` + regexp.QuoteMeta(name) + `\b`)
	for _, run := range s.doc.runs(s.chain) {
		if s.doc.follows(run, arg) && ref.MatchString(run.shell) {
			return run
		}
	}
	return nil
}

// secretWords are name parts that mark a secret. PWD is not one (it is the
// working directory everywhere); KEY is, unless it is a key's id or name or
// a public key (VITE_/NEXT_PUBLIC_ args are meant to ship in the bundle).
var secretWords = map[string]bool{
	"TOKEN": true, "PASSWORD": true, "PASSWD": true, "PASS": true, "SECRET": true,
	"SECRETS": true, "CREDENTIALS": true, "CREDENTIAL": true, "CREDS": true,
	"APIKEY": true, "KEY": true, "PAT": true, "AUTHTOKEN": true,
}

func secretName(name string) bool {
	parts := strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	for _, p := range parts {
		if p == "PUBLIC" {
			return false
		}
	}
	for i, p := range parts {
		if !secretWords[p] {
			continue
		}
		if p == "KEY" && i+1 < len(parts) && (parts[i+1] == "ID" || parts[i+1] == "NAME") {
			continue
		}
		return true
	}
	return false
}

var (
	urlCredentials = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`)
	tokenShapes    = regexp.MustCompile(`^(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w-]{20,}|xox[abpr]-[\w-]{10,}|AKIA[0-9A-Z]{16}|npm_[A-Za-z0-9]{30,}|sk-[A-Za-z0-9_-]{20,})$`)
)

// secretValue says why a value looks secret, "" when it does not. It never
// repeats the value: findings end up in CI logs.
func secretValue(v string) string {
	switch {
	case urlCredentials.MatchString(v):
		return "holds user:password@ credentials in a URL"
	case tokenShapes.MatchString(strings.TrimSpace(v)):
		return "has the shape of an access token"
	case strings.Contains(v, "-----BEGIN ") && strings.Contains(v, "PRIVATE KEY"):
		return "holds a private key"
	}
	return ""
}

// place is file:line for a message, relative to the project directory,
// just the file when the line is unknown.
func (s *subject) place(file string, line int) string {
	if rel, err := filepath.Rel(s.proj.Dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		file = filepath.ToSlash(rel)
	}
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}
