package config

import "github.com/rebuildd/rebuildd/config/inputerr"

// InputError is bad input from the user: a compose file, Dockerfile, ignore
// file or rebuild.yaml that cannot be used. cmd/rebuildd maps it to exit code
// 2 and prints it as one line, never a stack trace. (An alias of
// inputerr.Error, which low packages use without importing compose-go.)
type InputError = inputerr.Error
