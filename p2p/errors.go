package p2p

import "errors"

// Sentinel errors of package p2p.
var (
	// ErrKey: a key or peer ID is not secp256k1 or is malformed
	// (NewIdentity, LoadIdentity, AddressOf).
	ErrKey = errors.New("p2p: bad key")
	// ErrIdentityExists: CreateIdentity found a key already in the keystore.
	ErrIdentityExists = errors.New("p2p: identity already exists")
	// ErrNoIdentity: LoadIdentity found no key in the keystore.
	ErrNoIdentity = errors.New("p2p: no identity")
	// ErrManyKeys: LoadIdentity found more than one key file.
	ErrManyKeys = errors.New("p2p: more than one key in keystore")
	// ErrPassphrase: the keystore passphrase is wrong.
	ErrPassphrase = errors.New("p2p: wrong passphrase")
	// ErrNoPassphrase: ReadPassphrase has no file, env var or terminal.
	ErrNoPassphrase = errors.New("p2p: no passphrase source")
	// ErrPassphraseMismatch: the confirmation prompt differed.
	ErrPassphraseMismatch = errors.New("p2p: passphrases do not match")

	// ErrConfig: a Config value does not parse (bad multiaddr, DHT mode).
	ErrConfig = errors.New("p2p: bad config")
	// ErrClosed: the Node or Topic is closed.
	ErrClosed = errors.New("p2p: closed")

	// ErrFrameTooLarge: a frame announces or carries more than the maximum;
	// returned before anything is allocated.
	ErrFrameTooLarge = errors.New("p2p: frame too large")
	// ErrFrame: a frame is malformed (bad varint, unknown kind, truncated).
	ErrFrame = errors.New("p2p: malformed frame")
	// ErrTimeout: a request/response exchange passed its deadline.
	ErrTimeout = errors.New("p2p: stream timeout")
	// ErrRemote: the peer answered a Request with an error frame; the typed
	// *RemoteError carries its text.
	ErrRemote = errors.New("p2p: remote error")

	// ErrRateLimited: a gossip author exceeded its per-peer rate.
	ErrRateLimited = errors.New("p2p: rate limited")
	// ErrMessageTooLarge: a gossip message exceeded the topic's size cap.
	ErrMessageTooLarge = errors.New("p2p: message too large")
)

// RemoteError is the error text a peer sent back in an error frame.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return "p2p: remote error: " + e.Msg }

// Unwrap makes errors.Is(err, ErrRemote) true.
func (e *RemoteError) Unwrap() error { return ErrRemote }
