// Package client is the Go client of a cloudless daemon's control API
// (docs/api.md). The CLI uses it whenever a daemon holds the repo.
//
//	c, err := client.DialAPI(repoDir) // reads repo/api and repo/api.token
//	if errors.Is(err, client.ErrNoDaemon) { ... open the repo directly ... }
//	id, err := c.ID(ctx)
//	var jobs []client.Job
//	err = c.Do(ctx, "GET", "/v1/jobs", nil, &jobs)
//
// It imports nothing of the node, so commands that only talk to a daemon
// stay light. The wire types (ID, Peer, Offer, Job, Wallet, ...) are the
// JSON bodies of the API.
package client
