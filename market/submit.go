package market

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/cloudless-network/cloudless/market/wire"
)

// SubmitRequest is the body of POST /v1/jobs that the CLI sends: the job
// spec plus how to pay. A bare job spec (DESIGN.md "Job spec") is accepted
// too and pays by escrow.
type SubmitRequest struct {
	Spec      json.RawMessage `json:"spec"`
	Pay       wire.PayMode    `json:"pay,omitempty"`
	Providers []string        `json:"providers,omitempty"`
	// Retry re-awards the job up to Retry times (RunOptions.Retry).
	Retry int `json:"retry,omitempty"`
}

// DecodeSubmit reads a SubmitRequest or a bare job spec, strictly (see
// wire.ParseJobSpec), for node's JobService.Submit.
func DecodeSubmit(raw []byte) (wire.JobSpec, RunOptions, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return wire.JobSpec{}, RunOptions{}, fmt.Errorf("%w: %v", wire.ErrBadSpec, err)
	}
	if _, ok := probe["spec"]; !ok {
		s, err := wire.ParseJobSpec(raw)
		return s, RunOptions{}, err
	}
	var req SubmitRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return wire.JobSpec{}, RunOptions{}, fmt.Errorf("%w: %v", wire.ErrBadSpec, err)
	}
	s, err := wire.ParseJobSpec(req.Spec)
	if err != nil {
		return wire.JobSpec{}, RunOptions{}, err
	}
	if req.Retry < 0 || req.Retry > MaxRetry {
		return wire.JobSpec{}, RunOptions{}, fmt.Errorf("%w: retry %d: want 0..%d", wire.ErrBadSpec, req.Retry, MaxRetry)
	}
	opts := RunOptions{PayMode: req.Pay, Retry: req.Retry}
	for _, p := range req.Providers {
		id, err := peer.Decode(p)
		if err != nil {
			return wire.JobSpec{}, RunOptions{}, fmt.Errorf("%w: provider %q: %v", wire.ErrBadSpec, p, err)
		}
		opts.Providers = append(opts.Providers, id)
	}
	return s, opts, nil
}
