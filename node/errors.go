package node

import "errors"

var (
	// ErrConfig is returned by LoadConfig, ParseConfig and Validate for a
	// config that can't be used; the message names the file and line, or
	// the environment variable, at fault.
	ErrConfig = errors.New("invalid config")
	// ErrRemoteAPI is returned by Validate when the control API would bind
	// a non-loopback address without api.allow_remote.
	ErrRemoteAPI = errors.New("control API address is not loopback")
	// ErrNoRepo is returned when the repo (its config.yaml) does not exist.
	ErrNoRepo = errors.New("no repo")
	// ErrRepoExists is returned by Init when the directory already holds a
	// repo.
	ErrRepoExists = errors.New("repo already exists")
	// ErrRepoLocked is returned by LockRepo (and so by Start) when another
	// process holds the repo.
	ErrRepoLocked = errors.New("repo is in use")
	// ErrUnavailable is returned by the control API for an endpoint whose
	// part is not running (e.g. wallet without a chain); HTTP 503.
	ErrUnavailable = errors.New("not available")
	// ErrNotFound is what parts wrap for an unknown job or CID; HTTP 404.
	ErrNotFound = errors.New("not found")
	// ErrBadRequest is what parts wrap for invalid input; HTTP 400.
	ErrBadRequest = errors.New("bad request")
)
