package ledger

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"
)

func localJob(id string, s JobState) Job {
	return Job{ID: id, Role: RoleClient, State: s, PayMode: PayLocal, Provider: "self", Module: "bafkmod",
		Price: new(big.Int), ExitCode: 3, Note: "fn echo: GET /echo"}
}

func TestRecordLocalJobs(t *testing.T) {
	l, clk := openTest(t)
	ctx := context.Background()
	started := clk.Now().Add(-time.Second)
	a, b := localJob("a", JobAccepted), localJob("b", JobFailed)
	a.Created = started
	b.Error = "function loop ran past its deadline of 300ms"
	if err := l.RecordLocalJobs(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	got, err := l.Job(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != JobAccepted || got.PayMode != PayLocal || !got.Created.Equal(started) || !got.Updated.After(started) ||
		got.ExitCode != 3 || got.Provider != "self" || !got.Terminal() {
		t.Fatalf("stored %+v", got)
	}
	js, err := l.Jobs(ctx, JobFilter{Role: RoleClient})
	if err != nil || len(js) != 2 {
		t.Fatalf("jobs %v %v", js, err)
	}
	if un, err := l.Unfinished(ctx); err != nil || len(un) != 0 {
		t.Fatalf("unfinished %v %v", un, err)
	}
	h, err := l.History(ctx, "b")
	if err != nil || len(h) != 2 || h[0].To != string(JobRequested) || h[1].From != string(JobRequested) || h[1].To != string(JobFailed) {
		t.Fatalf("history %+v %v", h, err)
	}
	// Again: a no-op, even later.
	clk.Advance(time.Minute)
	if err := l.RecordLocalJobs(ctx, a); err != nil {
		t.Fatalf("identical again: %v", err)
	}
	if h, _ := l.History(ctx, "a"); len(h) != 2 {
		t.Fatalf("history after replay %+v", h)
	}
	// The same ID with other data, or a market job's ID.
	a.ExitCode = 4
	if err := l.RecordLocalJobs(ctx, a); !errors.Is(err, ErrExists) {
		t.Fatalf("different data: %v", err)
	}
	if _, err := l.PutJob(ctx, Job{ID: "m", Role: RoleClient, State: JobRequested, PayMode: "channel"}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordLocalJobs(ctx, localJob("m", JobAccepted)); !errors.Is(err, ErrExists) {
		t.Fatalf("market job's ID: %v", err)
	}
	if err := l.RecordLocalJobs(ctx); err != nil {
		t.Fatalf("none: %v", err)
	}
}

func TestRecordLocalJobsRefused(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		mutate func(*Job)
	}{
		{"empty id", func(j *Job) { j.ID = "" }},
		{"provider role", func(j *Job) { j.Role = RoleProvider }},
		{"pay mode channel", func(j *Job) { j.PayMode = "channel" }},
		{"not ended", func(j *Job) { j.State = JobRunning }},
		{"initial state", func(j *Job) { j.State = JobRequested }},
		{"priced", func(j *Job) { j.Price = big.NewInt(1) }},
		{"max price", func(j *Job) { j.MaxPrice = big.NewInt(1) }},
		{"voucher", func(j *Job) { j.Voucher = big.NewInt(0) }},
		{"channel", func(j *Job) { j.ChannelID = hash(1) }},
		{"deal", func(j *Job) { j.DealID = hash(2) }},
		{"providers", func(j *Job) { j.Providers = []Assignment{{Provider: "p"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := localJob("x-"+tt.name, JobAccepted)
			tt.mutate(&j)
			// One bad job refuses the whole batch.
			if err := l.RecordLocalJobs(ctx, localJob("ok-"+tt.name, JobAccepted), j); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			if _, err := l.Job(ctx, "ok-"+tt.name); !errors.Is(err, ErrNotFound) {
				t.Fatalf("the good job of a refused batch was written: %v", err)
			}
		})
	}
	l.Close()
	if err := l.RecordLocalJobs(ctx, localJob("late", JobAccepted)); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}
