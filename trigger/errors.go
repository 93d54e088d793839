package trigger

import "errors"

// Errors callers branch on; each is wrapped with the details.
var (
	// ErrBadManifest: the manifest cannot be used (the message names file,
	// line and fix).
	ErrBadManifest = errors.New("bad manifest")
	// ErrNoFunction: no function by that name or route.
	ErrNoFunction = errors.New("no such function")
	// ErrOverBudget: running the function would pass its daily spending cap
	// (the gateway answers 402).
	ErrOverBudget = errors.New("over budget")
	// ErrBadResponse: the function's stdout is not a valid CGI response
	// (the gateway answers 502).
	ErrBadResponse = errors.New("bad CGI response")
	// ErrBadFunction: Service.Deploy refused a function (invalid, or a
	// trigger that could not start); nothing was registered.
	ErrBadFunction = errors.New("bad function")
)
