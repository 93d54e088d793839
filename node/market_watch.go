package node

import (
	"context"
	"time"

	"github.com/cloudless-network/cloudless/node/client"
)

// providerJobPoll is how often WatchJobs looks for changes of provider
// jobs, which have no event feed; client jobs come from the market's.
const providerJobPoll = time.Second

// WatchJobs feeds /v1/events (JobWatcher): a client job is sent as soon
// as the market emits an event for it (re-read, so the stream carries the
// job as the ledger has it), and every providerJobPoll a listing of all
// jobs catches provider jobs and anything an event was dropped for.
// Before this the stream only polled, once a second, so a job's end
// reached `cloudless run`, the dashboard and API clients up to a second
// late (tests/perf BenchmarkProviderDaemon's p50 was exactly 1.0 s).
func (m *marketService) WatchJobs(ctx context.Context) <-chan client.Job {
	events, stop := m.c.WatchAll()
	out := make(chan client.Job, 64)
	go func() {
		defer close(out)
		defer stop()
		seen := map[string]string{}
		send := func(j client.Job) bool {
			key := j.State + "|" + j.Updated.String()
			if seen[j.ID] == key {
				return true
			}
			seen[j.ID] = key
			select {
			case out <- j:
				return true
			case <-ctx.Done():
				return false
			}
		}
		// The stream carries changes, not the backlog.
		if js, err := m.Jobs(ctx); err == nil {
			for _, j := range js {
				seen[j.ID] = j.State + "|" + j.Updated.String()
			}
		}
		t := time.NewTicker(providerJobPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				j, err := m.Job(ctx, ev.JobID.String())
				if err == nil && !send(j) {
					return
				}
			case <-t.C:
				js, err := m.Jobs(ctx)
				if err != nil {
					continue
				}
				for _, j := range js {
					if !send(j) {
						return
					}
				}
			}
		}
	}()
	return out
}

var _ JobWatcher = (*marketService)(nil)
