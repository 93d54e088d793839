package p2p

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// MarketProtocol is the request/response protocol of the market (bids,
// awards, results, cancels).
const MarketProtocol protocol.ID = "/cloudless/market/1.0.0"

// Response frame status bytes. A response frame is one status byte followed
// by the body: the handler's reply, or UTF-8 error text.
const (
	statusOK    byte = 0x00
	statusError byte = 0x01
)

// MaxErrorText caps the error text in an error frame.
const MaxErrorText = 1024

// maxVarintLen is the longest uvarint we accept as a frame length.
const maxVarintLen = binary.MaxVarintLen64

// WriteFrame writes p as one frame: its length as an unsigned varint, then
// the bytes.
func WriteFrame(w io.Writer, p []byte) error {
	var hdr [maxVarintLen]byte
	n := binary.PutUvarint(hdr[:], uint64(len(p)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return fmt.Errorf("p2p: write frame header: %w", err)
	}
	if _, err := w.Write(p); err != nil {
		return fmt.Errorf("p2p: write frame: %w", err)
	}
	return nil
}

// ReadFrame reads one frame of at most max bytes. The announced length is
// checked before the buffer is allocated, so a peer announcing 1 GiB costs
// us nothing.
//
// # Errors
//
// *FrameTooLargeError (errors.Is ErrFrameTooLarge) when the frame announces
// more than max; ErrFrame for a malformed length or a truncated body;
// io.EOF when r ends before the first byte; deadline errors from r.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	size, err := readUvarint(r)
	if err != nil {
		return nil, err
	}
	if max < 0 || size > uint64(max) {
		return nil, &FrameTooLargeError{Size: size, Max: max}
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("%w: body: %v", ErrFrame, err)
	}
	return buf, nil
}

// FrameTooLargeError reports a frame over the cap.
type FrameTooLargeError struct {
	Size uint64
	Max  int
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("p2p: frame of %d bytes exceeds max %d", e.Size, e.Max)
}

// Unwrap makes errors.Is(err, ErrFrameTooLarge) true.
func (e *FrameTooLargeError) Unwrap() error { return ErrFrameTooLarge }

// readUvarint reads a varint one byte at a time, so it never reads past the
// header into the body.
func readUvarint(r io.Reader) (uint64, error) {
	var b [1]byte
	var x uint64
	var s uint
	for i := 0; i < maxVarintLen; i++ {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			if i == 0 && errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, fmt.Errorf("%w: header: %v", ErrFrame, err)
		}
		if b[0] < 0x80 {
			if i == maxVarintLen-1 && b[0] > 1 {
				return 0, fmt.Errorf("%w: length overflows 64 bits", ErrFrame)
			}
			return x | uint64(b[0])<<s, nil
		}
		x |= uint64(b[0]&0x7f) << s
		s += 7
	}
	return 0, fmt.Errorf("%w: length overflows 64 bits", ErrFrame)
}

// Handler serves one request on a framed protocol. The returned bytes are
// the reply; a returned error is sent to the peer as an error frame with the
// error's text (so do not put secrets in it).
type Handler func(ctx context.Context, from peer.ID, req []byte) ([]byte, error)

// Handle serves proto with h: for each stream it reads one request frame of
// at most maxFrame bytes (read deadline StreamTimeout), runs h with a
// HandlerTimeout context, writes one response frame (write deadline
// StreamTimeout) and closes the stream. A peer that stalls is reset when
// the deadline passes; a request over maxFrame, or malformed, is answered
// with a stream reset (the body is never read, so no error frame can be
// written without reading it first).
func (n *Node) Handle(proto protocol.ID, maxFrame int, h Handler) {
	n.h.SetStreamHandler(proto, func(s network.Stream) {
		p := string(proto)
		defer s.Close()
		from := s.Conn().RemotePeer()
		// Deadlines where the transport has them, and a timer that resets
		// the stream where it does not (mocknet) or when a peer trickles.
		_ = s.SetReadDeadline(time.Now().Add(n.cfg.StreamTimeout))
		readTimer := time.AfterFunc(n.cfg.StreamTimeout, func() { _ = s.Reset() })
		req, err := ReadFrame(s, maxFrame)
		if !readTimer.Stop() && err == nil {
			err = ErrTimeout
		}
		if err != nil {
			n.metrics.request(p, "in", "bad_request")
			n.log.Debug("bad request frame", "proto", p, "peer", from, "err", err)
			_ = s.Reset()
			return
		}
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.HandlerTimeout)
		resp, herr := safeHandle(ctx, h, from, req)
		cancel()
		_ = s.SetWriteDeadline(time.Now().Add(n.cfg.StreamTimeout))
		writeTimer := time.AfterFunc(n.cfg.StreamTimeout, func() { _ = s.Reset() })
		defer writeTimer.Stop()
		if herr != nil {
			n.metrics.request(p, "in", "error")
			msg := herr.Error()
			if len(msg) > MaxErrorText {
				msg = msg[:MaxErrorText]
			}
			err = writeStatus(s, statusError, []byte(msg))
		} else {
			n.metrics.request(p, "in", "ok")
			err = writeStatus(s, statusOK, resp)
		}
		if err != nil {
			n.log.Debug("write response", "proto", p, "peer", from, "err", err)
			_ = s.Reset()
		}
	})
}

// Unhandle stops serving proto.
func (n *Node) Unhandle(proto protocol.ID) { n.h.RemoveStreamHandler(proto) }

func safeHandle(ctx context.Context, h Handler, from peer.ID, req []byte) (resp []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, fmt.Errorf("internal error")
		}
	}()
	return h(ctx, from, req)
}

func writeStatus(w io.Writer, status byte, body []byte) error {
	buf := make([]byte, 0, 1+len(body))
	buf = append(buf, status)
	buf = append(buf, body...)
	return WriteFrame(w, buf)
}

// Request opens a stream to p on proto, sends req as one frame and returns
// the reply frame's body (at most maxResp bytes). Each read and write has a
// StreamTimeout deadline, and ctx cancels the whole exchange.
//
// # Errors
//
// *RemoteError (errors.Is ErrRemote) when the peer answered with an error
// frame; ErrFrameTooLarge when the reply exceeds maxResp; ErrFrame for a
// malformed reply; dial, deadline and ctx errors.
func (n *Node) Request(ctx context.Context, p peer.ID, proto protocol.ID, req []byte, maxResp int) ([]byte, error) {
	out, err := n.request(ctx, p, proto, req, maxResp)
	if err != nil {
		var re *RemoteError
		if errors.As(err, &re) {
			n.metrics.request(string(proto), "out", "remote_error")
		} else {
			n.metrics.request(string(proto), "out", "failed")
		}
		return nil, err
	}
	n.metrics.request(string(proto), "out", "ok")
	return out, nil
}

func (n *Node) request(parent context.Context, p peer.ID, proto protocol.ID, req []byte, maxResp int) ([]byte, error) {
	// The whole exchange: write, the handler's time, read.
	ctx, cancel := context.WithTimeout(parent, 2*n.cfg.StreamTimeout+n.cfg.HandlerTimeout)
	defer cancel()
	s, err := n.h.NewStream(ctx, p, proto)
	if err != nil {
		return nil, fmt.Errorf("p2p: open %s to %s: %w", proto, p, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	defer s.Close()

	deadline := time.Now().Add(n.cfg.StreamTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = s.SetWriteDeadline(deadline)
	if err := WriteFrame(s, req); err != nil {
		_ = s.Reset()
		return nil, ctxErr(parent, ctx, err)
	}
	_ = s.CloseWrite()
	// The handler may work up to HandlerTimeout before it answers.
	rd := time.Now().Add(n.cfg.HandlerTimeout + n.cfg.StreamTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(rd) {
		rd = d
	}
	_ = s.SetReadDeadline(rd)
	frame, err := ReadFrame(s, maxResp+1)
	if err != nil {
		_ = s.Reset()
		return nil, ctxErr(parent, ctx, err)
	}
	if len(frame) == 0 {
		return nil, fmt.Errorf("%w: empty response", ErrFrame)
	}
	switch frame[0] {
	case statusOK:
		return frame[1:], nil
	case statusError:
		msg := frame[1:]
		if len(msg) > MaxErrorText {
			msg = msg[:MaxErrorText]
		}
		return nil, &RemoteError{Msg: string(msg)}
	}
	return nil, fmt.Errorf("%w: unknown status %#x", ErrFrame, frame[0])
}

// ctxErr prefers the caller's context error, then ErrTimeout for our own
// exchange deadline, when either caused the failure.
func ctxErr(parent, ctx context.Context, err error) error {
	if parent.Err() != nil {
		return fmt.Errorf("p2p: request: %w", parent.Err())
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	}
	return err
}
