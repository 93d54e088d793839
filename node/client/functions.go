package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// The serverless functions endpoints (docs/api.md, "Functions").

// FunctionList answers GET and POST /v1/functions.
type FunctionList struct {
	// Gateway is the HTTP gateway's base URL ("http://127.0.0.1:8080"),
	// empty when the daemon runs without one.
	Gateway   string     `json:"gateway,omitempty"`
	Functions []Function `json:"functions"`
}

// Function is a deployed function and its spending today. Amounts are
// decimal strings of wei.
type Function struct {
	Name   string `json:"name"`
	Module string `json:"module"` // CID
	Source string `json:"source"` // as the manifest said
	Local  bool   `json:"local"`
	// MaxPrice caps one invocation, DailyCap one UTC day; empty for local
	// functions.
	MaxPrice   string            `json:"max_price,omitempty"`
	DailyCap   string            `json:"daily_cap,omitempty"`
	SpentToday string            `json:"spent_today"`
	Memory     int64             `json:"memory"`     // bytes
	TimeoutMS  int64             `json:"timeout_ms"` // per invocation
	Triggers   []FunctionTrigger `json:"triggers"`
	Deployed   time.Time         `json:"deployed"`
	// Invocations counts the records kept in its log; Last is the newest.
	Invocations int         `json:"invocations"`
	Last        *Invocation `json:"last,omitempty"`
	// Errors are triggers that did not start after a daemon restart.
	Errors []string `json:"errors,omitempty"`
}

// FunctionTrigger is one trigger of a function; the fields of its kind
// are set.
type FunctionTrigger struct {
	Kind     string   `json:"kind"` // http, cron, watch, topic
	Route    string   `json:"route,omitempty"`
	Methods  []string `json:"methods,omitempty"`
	Schedule string   `json:"schedule,omitempty"`
	Dir      string   `json:"dir,omitempty"`
	Topic    string   `json:"topic,omitempty"`
}

// Invocation is one record of GET /v1/functions/{name}/logs.
type Invocation struct {
	Time       time.Time `json:"time"`
	Trigger    string    `json:"trigger"`
	Detail     string    `json:"detail,omitempty"`
	JobID      string    `json:"job_id,omitempty"`
	Provider   string    `json:"provider,omitempty"`
	ExitCode   int32     `json:"exit_code"`
	DurationMS float64   `json:"duration_ms"`
	Price      string    `json:"price"` // wei
	OutputCID  string    `json:"output_cid,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// Functions lists the deployed functions.
func (c *Client) Functions(ctx context.Context) (FunctionList, error) {
	var v FunctionList
	return v, c.Do(ctx, http.MethodGet, "/v1/functions", nil, &v)
}

// Deploy registers fns (a JSON list of trigger.Function, modules already
// published) with the daemon, all or nothing, and returns them as
// deployed.
//
// # Errors
//
// *APIError 400 naming the refused function and the fix; nothing is
// registered then.
func (c *Client) Deploy(ctx context.Context, fns any) (FunctionList, error) {
	var v FunctionList
	return v, c.Do(ctx, http.MethodPost, "/v1/functions", fns, &v)
}

// RemoveFunction removes a deployed function (404 when there is none).
func (c *Client) RemoveFunction(ctx context.Context, name string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/functions/"+url.PathEscape(name), nil, nil)
}

// FunctionLogs returns the last n invocations of a function, oldest first
// (all kept when n <= 0).
func (c *Client) FunctionLogs(ctx context.Context, name string, n int) ([]Invocation, error) {
	var v []Invocation
	p := "/v1/functions/" + url.PathEscape(name) + "/logs"
	if n > 0 {
		p += fmt.Sprintf("?n=%d", n)
	}
	return v, c.Do(ctx, http.MethodGet, p, nil, &v)
}

// Emit publishes the bytes of r (at most 64 KiB) on the topic of topic
// triggers named topic, signed by the daemon.
func (c *Client) Emit(ctx context.Context, topic string, r io.Reader) error {
	return c.Do(ctx, http.MethodPost, "/v1/topics/"+url.PathEscape(topic), r, nil)
}
