package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	for _, p := range [][]byte{{}, []byte("hello"), bytes.Repeat([]byte{7}, 300)} {
		if err := WriteFrame(&buf, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []int{0, 5, 300} {
		got, err := ReadFrame(&buf, 300)
		if err != nil || len(got) != want {
			t.Fatalf("got %d %v, want %d", len(got), err, want)
		}
	}
	if _, err := ReadFrame(&buf, 10); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestReadFrameRefusals(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		max  int
		want error
	}{
		{"over max", frame(11), 10, ErrFrameTooLarge},
		{"truncated body", frame(10)[:5], 10, ErrFrame},
		{"truncated header", []byte{0x80}, 10, ErrFrame},
		{"overlong varint", bytes.Repeat([]byte{0xff}, 11), 10, ErrFrame},
		{"64-bit overflow", append(bytes.Repeat([]byte{0xff}, 9), 0x02), 10, ErrFrame},
		{"huge", binary.AppendUvarint(nil, 1<<62), 1 << 20, ErrFrameTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(tc.in), tc.max)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func frame(n int) []byte {
	b := binary.AppendUvarint(nil, uint64(n))
	return append(b, make([]byte, n)...)
}

// TestGiBFrameNotAllocated: a frame announcing 1 GiB is refused without
// allocating it (checked as bytes allocated, not only allocation count).
func TestGiBFrameNotAllocated(t *testing.T) {
	hdr := binary.AppendUvarint(nil, 1<<30)
	r := bytes.NewReader(hdr)
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(hdr)
		if _, err := ReadFrame(r, 1<<20); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatal(err)
		}
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		r.Reset(hdr)
		_, _ = ReadFrame(r, 1<<20)
	}
	runtime.ReadMemStats(&after)
	perCall := (after.TotalAlloc - before.TotalAlloc) / 100
	t.Logf("allocs/op %.0f, bytes/op %d", allocs, perCall)
	if allocs > 2 || perCall > 1024 {
		t.Fatalf("refusing a 1 GiB frame allocated %.0f times, %d bytes per call", allocs, perCall)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(frame(3), 10)
	f.Add(binary.AppendUvarint(nil, 1<<30), 1<<20)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		max = max & 0xffff
		b, err := ReadFrame(bytes.NewReader(data), max)
		if err == nil && len(b) > max {
			t.Fatalf("frame of %d over max %d", len(b), max)
		}
	})
}

const testProto = "/cloudless/test/1.0.0"

func pairNodes(t *testing.T, cfg func(i int, boot []string) Config) (*Node, *Node) {
	t.Helper()
	nodes, mn := mockNodes(t, 2, 0, cfg)
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	return nodes[0], nodes[1]
}

func noBoot(i int, _ []string) Config { c := simConfig(); c.MinPeers = 0; return c }

func TestRequestResponse(t *testing.T) {
	a, b := pairNodes(t, noBoot)
	b.Handle(testProto, 16, func(ctx context.Context, from peer.ID, req []byte) ([]byte, error) {
		if from != a.ID() {
			return nil, errors.New("wrong peer")
		}
		switch string(req) {
		case "fail":
			return nil, errors.New("no capacity")
		case "big":
			return bytes.Repeat([]byte{1}, 100), nil
		case "panic":
			panic("boom")
		}
		return append([]byte("re:"), req...), nil
	})
	ctx := t.Context()
	got, err := a.Request(ctx, b.ID(), testProto, []byte("bid"), 64)
	if err != nil || string(got) != "re:bid" {
		t.Fatalf("ok: %q %v", got, err)
	}
	_, err = a.Request(ctx, b.ID(), testProto, []byte("fail"), 64)
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "no capacity" || !errors.Is(err, ErrRemote) {
		t.Fatalf("error frame: %v", err)
	}
	if _, err := a.Request(ctx, b.ID(), testProto, []byte("big"), 64); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("big response: %v", err)
	}
	if _, err := a.Request(ctx, b.ID(), testProto, []byte("panic"), 64); !errors.Is(err, ErrRemote) {
		t.Fatalf("panicking handler: %v", err)
	}
	// Request over the handler's frame cap: the stream is reset, promptly.
	start := time.Now()
	_, err = a.Request(ctx, b.ID(), testProto, bytes.Repeat([]byte{1}, 17), 64)
	if err == nil || errors.Is(err, ErrTimeout) || time.Since(start) > 2*time.Second {
		t.Fatalf("oversized request: %v after %s", err, time.Since(start))
	}
	// Unknown protocol.
	if _, err := a.Request(ctx, b.ID(), "/cloudless/none/1", nil, 64); err == nil {
		t.Fatal("unknown protocol accepted")
	}
}

// TestStalledPeerTimesOut: a handler that never answers makes Request fail
// at the deadline; a client that opens a stream and sends nothing is reset
// by the server at StreamTimeout.
func TestStalledPeerTimesOut(t *testing.T) {
	short := func(i int, boot []string) Config {
		c := noBoot(i, boot)
		c.StreamTimeout = 200 * time.Millisecond
		c.HandlerTimeout = 300 * time.Millisecond
		return c
	}
	a, b := pairNodes(t, short)
	release := make(chan struct{})
	defer close(release)
	b.Handle(testProto, 16, func(ctx context.Context, _ peer.ID, _ []byte) ([]byte, error) {
		select {
		case <-release: // a handler that ignores its ctx: the stream deadline still ends the request
		}
		return nil, nil
	})
	start := time.Now()
	_, err := a.Request(t.Context(), b.ID(), testProto, []byte("x"), 64)
	if err == nil {
		t.Fatal("stalled handler: request succeeded")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("stalled handler: took %s", el)
	}

	// Caller ctx deadline shorter than the stream timeout wins.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := a.Request(ctx, b.ID(), testProto, []byte("x"), 64); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx deadline: %v", err)
	}

	// Server side: a client that sends half a frame and stalls is reset.
	served := make(chan struct{}, 1)
	b.Handle("/cloudless/test/2", 16, func(context.Context, peer.ID, []byte) ([]byte, error) {
		served <- struct{}{}
		return nil, nil
	})
	s, err := a.Host().NewStream(t.Context(), b.ID(), "/cloudless/test/2")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	if _, err := s.Write([]byte{10, 1, 2}); err != nil { // announces 10, sends 2
		t.Fatal(err)
	}
	_ = s.SetReadDeadline(time.Now().Add(3 * time.Second))
	start = time.Now()
	_, err = io.ReadAll(s)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("server did not reset the stalled stream: %v after %s", err, time.Since(start))
	}
	var se *network.StreamError
	_ = errors.As(err, &se)
	select {
	case <-served:
		t.Fatal("handler ran on a truncated request")
	default:
	}
}
