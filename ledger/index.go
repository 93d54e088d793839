package ledger

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The open-jobs index: bucketOpenJobs holds one key per job that is not in
// a terminal state (Job.Terminal false), key = job ID, value = role ‖ 0 ‖
// state. putJob maintains it in the same bbolt transaction as the job
// record, so it can never disagree with bucketJobs after a crash. Queries
// whose states are all non-terminal (the settle loops, Unfinished, voucher
// redemption) walk it instead of decoding every job ever recorded: a node
// that has run 10,000 jobs keeps a handful open.
//
// Layout version 2 introduced the index; Open builds it from the jobs
// bucket when it opens a version-1 file (or finds the bucket missing) and
// then writes version 2, which older builds refuse to open, so no build
// that does not maintain the index ever writes to a file that has one.

var bucketOpenJobs = []byte("open_jobs") // Job.ID -> role ‖ 0 ‖ state, non-terminal jobs only

func openJobValue(j Job) []byte {
	v := make([]byte, 0, len(j.Role)+1+len(j.State))
	v = append(v, j.Role...)
	v = append(v, 0)
	return append(v, j.State...)
}

func splitOpenJobValue(v []byte) (Role, JobState, bool) {
	i := bytes.IndexByte(v, 0)
	if i < 0 {
		return "", "", false
	}
	return Role(v[:i]), JobState(v[i+1:]), true
}

// indexJob puts j in, or takes it out of, the open-jobs index.
func (tx *Tx) indexJob(j Job) error {
	b, err := tx.bucket(bucketOpenJobs)
	if err != nil {
		return err
	}
	if j.Terminal() {
		return b.Delete([]byte(j.ID))
	}
	return b.Put([]byte(j.ID), openJobValue(j))
}

// openOnly reports whether every job f can match is non-terminal, that is
// whether f can be answered from the open-jobs index. With no Role the
// states must be non-terminal for every role.
func openOnly(f JobFilter) bool {
	if len(f.States) == 0 {
		return false
	}
	roles := []Role{f.Role}
	if f.Role == "" {
		roles = []Role{RoleClient, RoleProvider}
	}
	for _, s := range f.States {
		for _, r := range roles {
			if s.Terminal(r) {
				return false
			}
		}
	}
	return true
}

// eachOpenJob calls fn for every indexed (non-terminal) job of role (any
// if "") in one of states (any if empty), decoding only those. The record
// must agree with its index entry; if not the file is damaged.
func (tx *Tx) eachOpenJob(role Role, states []JobState, fn func(Job) error) error {
	idx, err := tx.bucket(bucketOpenJobs)
	if err != nil {
		return err
	}
	jobs, err := tx.bucket(bucketJobs)
	if err != nil {
		return err
	}
	return idx.ForEach(func(k, v []byte) error {
		r, s, ok := splitOpenJobValue(v)
		if !ok {
			return tx.corrupt(fmt.Sprintf("open-jobs index entry %q", truncate(string(k))), fmt.Errorf("bad value %q", truncate(string(v))))
		}
		if (role != "" && r != role) || (len(states) > 0 && !containsState(states, s)) {
			return nil
		}
		what := fmt.Sprintf("job %q", truncate(string(k)))
		raw := jobs.Get(k)
		if raw == nil {
			return tx.corrupt(what, fmt.Errorf("in the open-jobs index but not stored"))
		}
		j, err := decodeJob(raw)
		switch {
		case err != nil:
		case j.ID != string(k):
			err = fmt.Errorf("stored under the wrong key (%q)", truncate(j.ID))
		case j.Role != r || j.State != s:
			err = fmt.Errorf("record is %s/%s, open-jobs index says %s/%s", j.Role, j.State, r, s)
		}
		if err != nil {
			return tx.corrupt(what, err)
		}
		return fn(j)
	})
}

// buildOpenJobs (re)creates the open-jobs index from the jobs bucket. It
// runs inside Open's first write transaction, once per file.
func buildOpenJobs(btx *bolt.Tx, corrupt func(string, error) error) (int, error) {
	if btx.Bucket(bucketOpenJobs) != nil {
		if err := btx.DeleteBucket(bucketOpenJobs); err != nil {
			return 0, err
		}
	}
	idx, err := btx.CreateBucket(bucketOpenJobs)
	if err != nil {
		return 0, err
	}
	jobs := btx.Bucket(bucketJobs)
	if jobs == nil {
		return 0, corrupt("bucket "+string(bucketJobs), fmt.Errorf("missing"))
	}
	n := 0
	err = jobs.ForEach(func(k, v []byte) error {
		j, err := decodeJob(v)
		if err == nil && j.ID != string(k) {
			err = fmt.Errorf("stored under the wrong key (%q)", truncate(j.ID))
		}
		if err != nil {
			return corrupt(fmt.Sprintf("job %q (building the open-jobs index)", truncate(string(k))), err)
		}
		if j.Terminal() {
			return nil
		}
		n++
		return idx.Put(k, openJobValue(j))
	})
	return n, err
}
