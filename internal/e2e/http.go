package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// HTTPDCmd is the Dockerfile line that serves /www on port 80 with busybox
// httpd in the foreground (-f), so the container lives as long as httpd.
const HTTPDCmd = `CMD ["httpd", "-f", "-p", "80", "-h", "/www"]` + "\n"

// HTTPService returns a compose.yaml with one service that builds context
// and publishes its port 80 on 127.0.0.1:port. Tests with more services write
// their own YAML; this is the common single-service case.
func HTTPService(service, context string, port int) string {
	return fmt.Sprintf("services:\n  %s:\n    build: %s\n    ports:\n      - \"127.0.0.1:%d:80\"\n",
		service, context, port)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// publishing a container's port. Another process could take it before the
// container binds it; on a test machine that does not happen in practice.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// URL is http://127.0.0.1:port + path.
func URL(port int, path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
}

// getTimeout bounds one request: a local busybox httpd answers in
// milliseconds, and a container that is being replaced may accept and hang.
const getTimeout = 2 * time.Second

var client = &http.Client{Timeout: getTimeout}

// TryGet fetches url and returns the body of a 200 response.
func TryGet(url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", fmt.Errorf("get %q: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("get %q: read body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("get %q: %s", url, resp.Status)
	}
	return string(body), nil
}

// Get fetches url and fails the test unless it answers 200.
func Get(t testing.TB, url string) string {
	t.Helper()
	body, err := TryGet(url)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return body
}

// pollInterval is how often WaitServing asks again. A container starts in a
// few hundred milliseconds here; asking every 50ms adds little load and
// little latency to what the test waits for.
const pollInterval = 50 * time.Millisecond

// WaitServing polls url until it answers 200 with a body containing want
// (any body when want is ""), and returns that body. It fails the test with
// the last answer when timeout passes first. Polling is right here: it waits
// for an external process (a container starting), not for our own code.
func WaitServing(t testing.TB, url, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		body, err := TryGet(url)
		if err == nil && strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("body %q does not contain %q", tail(body, 5), want)
			}
			t.Fatalf("%s not serving %q after %v: %v", url, want, timeout, err)
		}
		time.Sleep(pollInterval)
	}
}
