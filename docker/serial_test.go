package docker

import (
	"context"
	"io"
	"testing"
	"testing/synctest"
)

// blockingUp is a Runner whose Up calls announce themselves and wait.
type blockingUp struct {
	Runner
	in      chan []string
	release chan struct{}
}

func (b *blockingUp) Up(_ context.Context, services []string, _ bool, _ io.Writer) error {
	b.in <- services
	<-b.release
	return nil
}

func TestSerialUpOneAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &blockingUp{in: make(chan []string), release: make(chan struct{})}
		s := NewSerialUp(b)
		done := make(chan struct{}, 3)
		go func() { s.Up(context.Background(), []string{"a"}, false, nil); done <- struct{}{} }()
		<-b.in
		go func() { s.Up(context.Background(), []string{"b"}, false, nil); done <- struct{}{} }()
		restarted := make(chan struct{}, 1)
		go func() { s.Do(func() error { restarted <- struct{}{}; return nil }); done <- struct{}{} }()
		synctest.Wait()
		select {
		case got := <-b.in:
			t.Fatalf("a second up (%v) started while the first ran", got)
		default:
		}
		select {
		case <-restarted:
			t.Fatal("a restart ran during an up")
		default:
		}
		close(b.release)
		// Left to happen: b's up announces itself once, and all three finish.
		for ins, dones := 0, 0; ins < 1 || dones < 3; {
			select {
			case <-b.in:
				ins++
			case <-done:
				dones++
			}
		}
	})
}
