package status

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ParseListen turns a --listen value into the address to bind.
//
//   - "7878" or ":7878": only a port, so loopback: "127.0.0.1:7878". A bare
//     ":port" means every interface to net.Listen; docs/design.md says no
//     listener beyond loopback unless asked for, and a port alone is not
//     asking.
//   - "localhost:7878": loopback, "127.0.0.1:7878".
//   - an IP literal ("127.0.0.1:7878", "[::1]:7878", "0.0.0.0:7878"): used as
//     given. Typing a non-loopback address is the explicit request.
//   - any other host name is refused: what it resolves to is not visible
//     in the command line, so it could open the endpoint to a network by
//     accident.
func ParseListen(v string) (string, error) {
	v = strings.TrimSpace(v)
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		host, port = "", v
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("--listen %q: give a port (7878) or an address (127.0.0.1:7878)", v)
	}
	switch {
	case host == "" || host == "localhost":
		return net.JoinHostPort("127.0.0.1", port), nil
	case net.ParseIP(host) != nil:
		return net.JoinHostPort(host, port), nil
	}
	return "", fmt.Errorf("--listen %q: use an IP address, not the host name %q, so it is clear which network can reach it (127.0.0.1:%s for this machine only)", v, host, port)
}

// IsLoopback reports whether addr (host:port) listens on loopback only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
