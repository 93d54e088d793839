package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	bolt "go.etcd.io/bbolt"
)

// Tx is one ledger transaction, handed to the callback of Ledger.Update or
// Ledger.View. Its methods are those of Ledger without ctx; in a View the
// writing ones fail. A Tx is valid only inside its callback.
type Tx struct {
	tx     *bolt.Tx
	l      *Ledger
	now    time.Time
	events []Event // appended in this transaction, for metrics after commit
	// checked holds, by job ID, the stored CBOR values this transaction
	// decoded and found canonical, so that reading the same bytes again
	// (a caller's Job, then Advance's read) skips the re-encode that check
	// costs. Valid for the bbolt transaction (reset with it, db.go).
	checked map[string][]byte
}

// Now is the transaction's clock reading (UTC), the time stamped on every
// record and event it writes.
func (tx *Tx) Now() time.Time { return tx.now }

func (tx *Tx) corrupt(what string, err error) error {
	return &CorruptError{Path: tx.l.path, What: what, Err: err}
}

func (tx *Tx) bucket(name []byte) (*bolt.Bucket, error) {
	b := tx.tx.Bucket(name)
	if b == nil {
		return nil, tx.corrupt("bucket "+string(name), errors.New("missing"))
	}
	return b, nil
}

// callMutate runs a caller's mutate, turning a panic into an error so that
// a bug in the caller is not mistaken for a damaged file.
func callMutate[T any](mutate func(*T) error, v *T) (err error) {
	if mutate == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ledger: mutate panicked: %v", r)
		}
	}()
	return mutate(v)
}

// callSign runs the caller's signer with the same panic guard as mutate.
func callSign(sign func(*big.Int) ([]byte, error), cum *big.Int) (sig []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ledger: sign panicked: %v", r)
		}
	}()
	return sign(cum)
}

// ---- events ----

func (tx *Tx) appendEvent(kind, id, jobID, from, to, note string) error {
	h, err := tx.bucket(bucketHistory)
	if err != nil {
		return err
	}
	seq, err := h.NextSequence()
	if err != nil {
		return err
	}
	e := Event{Seq: seq, Kind: kind, ID: id, JobID: jobID, From: from, To: to, At: tx.now, Note: note}
	tx.events = append(tx.events, e)
	b, err := encode(e)
	if err != nil {
		return err
	}
	group := jobID
	if group == "" {
		group = id
	}
	return h.Put(historyKey(group, seq), b)
}

func historyKey(group string, seq uint64) []byte {
	k := make([]byte, 0, len(group)+9)
	k = append(k, group...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// History returns the events of a job, or of a deal/channel without a job.
func (tx *Tx) History(id string) ([]Event, error) {
	h, err := tx.bucket(bucketHistory)
	if err != nil {
		return nil, err
	}
	prefix := append([]byte(id), 0)
	var out []Event
	c := h.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, v = c.Next() {
		e, err := decodeEvent(v)
		if err != nil {
			return nil, tx.corrupt(fmt.Sprintf("event %q", k), err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ---- jobs ----

func checkID(id string) error {
	if id == "" || len(id) > maxID || strings.IndexByte(id, 0) >= 0 {
		return fmt.Errorf("%w: job id must be 1..%d bytes without NUL, got %q", ErrInvalid, maxID, truncate(id))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// canonJob normalizes the fields whose encoding could differ between two
// equal values.
func canonJob(j *Job) {
	j.Created, j.Updated, j.Deadline = utc(j.Created), utc(j.Updated), utc(j.Deadline)
}

// Job returns one job, or ErrNotFound.
func (tx *Tx) Job(id string) (Job, error) {
	j, _, err := tx.getJob(id)
	return j, err
}

// HasJob reports whether job id is stored, without decoding it (a write
// that creates or advances the job reads and checks it anyway).
func (tx *Tx) HasJob(id string) (bool, error) {
	if err := checkID(id); err != nil {
		return false, err
	}
	b, err := tx.bucket(bucketJobs)
	if err != nil {
		return false, err
	}
	return b.Get([]byte(id)) != nil, nil
}

func (tx *Tx) getJob(id string) (Job, []byte, error) {
	j, raw, _, err := tx.getJobChecked(id)
	return j, raw, err
}

// getJobChecked is getJob; checked reports whether raw is the stored value
// itself, decoded and found canonical (false for a legacy JSON value, whose
// raw is its re-encoding), so that a copy may be decoded from it without
// checking it again (decodeJobCopy).
func (tx *Tx) getJobChecked(id string) (j Job, raw []byte, checked bool, err error) {
	if err := checkID(id); err != nil {
		return Job{}, nil, false, err
	}
	b, err := tx.bucket(bucketJobs)
	if err != nil {
		return Job{}, nil, false, err
	}
	stored := b.Get([]byte(id))
	if stored == nil {
		return Job{}, nil, false, fmt.Errorf("%w: job %q", ErrNotFound, id)
	}
	if c, ok := tx.checked[id]; ok && bytes.Equal(c, stored) {
		j, err = decodeJobCopy(stored) // these very bytes passed the check
	} else if j, err = decodeJob(stored); err == nil && !isJSON(stored) {
		if tx.checked == nil {
			tx.checked = map[string][]byte{}
		}
		tx.checked[id] = stored
	}
	if err != nil {
		return Job{}, nil, false, tx.corrupt(fmt.Sprintf("job %q", id), err)
	}
	if j.ID != id {
		return Job{}, nil, false, tx.corrupt(fmt.Sprintf("job %q", id), fmt.Errorf("stored under the wrong key (%q)", j.ID))
	}
	return j, canonical(stored, &j), !isJSON(stored), nil
}

// copyJob decodes a copy of the record getJobChecked returned.
func copyJob(raw []byte, checked bool) (Job, error) {
	if checked {
		return decodeJobCopy(raw)
	}
	return decodeJob(raw)
}

func (tx *Tx) putJob(j Job) ([]byte, error) {
	raw, err := encode(j)
	if err != nil {
		return nil, err
	}
	return raw, tx.putJobRaw(j, raw)
}

// putJobRaw writes j, whose encoding is raw.
func (tx *Tx) putJobRaw(j Job, raw []byte) error {
	b, err := tx.bucket(bucketJobs)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(j.ID), raw); err != nil {
		return err
	}
	return tx.indexJob(j)
}

// PutJob creates a job; see Ledger.PutJob.
func (tx *Tx) PutJob(j Job) (Job, error) {
	if err := checkID(j.ID); err != nil {
		return Job{}, err
	}
	m, ok := jobMachine(j.Role)
	if !ok {
		return Job{}, fmt.Errorf("%w: job %q role %q", ErrInvalid, j.ID, j.Role)
	}
	if !m.isInitial(j.State) {
		return Job{}, fmt.Errorf("%w: a %s job starts in one of %v, not %q", ErrInvalid, j.Role, m.initial, j.State)
	}
	j, fresh, err := tx.insertJob(j, tx.now)
	if err != nil || !fresh {
		return j, err
	}
	return j, tx.appendEvent("job", j.ID, j.ID, "", string(j.State), j.Note)
}

// insertJob writes j as a new job created at created (Updated now). A job
// already stored with the same data (ignoring the ledger's time stamps) is
// returned with fresh false and nothing written; one with other data is
// ErrExists.
func (tx *Tx) insertJob(j Job, created time.Time) (job Job, fresh bool, err error) {
	canonJob(&j)
	cur, raw, err := tx.getJob(j.ID)
	switch {
	case err == nil:
		j.Created, j.Updated = cur.Created, cur.Updated
		if enc, _ := encode(j); bytes.Equal(enc, raw) {
			return cur, false, nil
		}
		return cur, false, fmt.Errorf("%w: job %q", ErrExists, j.ID)
	case !errors.Is(err, ErrNotFound):
		return Job{}, false, err
	}
	j.Created, j.Updated = created, tx.now
	if _, err := tx.putJob(j); err != nil {
		return Job{}, false, err
	}
	return j, true, nil
}

// Transition moves job id to state to. mutate (may be nil) edits a copy of
// the record first; it may not change ID or Role, and State, Created and
// Updated are the ledger's. The new record and an Event are written in the
// transaction.
//
// Replays: if the job is already in state to and mutate leaves the record
// as stored, Transition is a no-op returning it. If the data differs it is
// ErrConflict (a different result for the same job, say). If the job has
// gone past to, the *TransitionError also matches ErrStale.
//
// # Errors
//
// ErrNotFound, ErrInvalid (unknown state for the role, mutate changed ID or
// Role), *TransitionError (ErrBadTransition, maybe ErrStale), ErrConflict,
// or mutate's error (nothing written).
func (tx *Tx) Transition(id string, to JobState, mutate func(*Job) error) (Job, error) {
	cur, raw, checked, err := tx.getJobChecked(id)
	if err != nil {
		return Job{}, err
	}
	m, _ := jobMachine(cur.Role)
	if !m.known(to) {
		return cur, fmt.Errorf("%w: %q is not a %s job state", ErrInvalid, to, cur.Role)
	}
	next, err := copyJob(raw, checked) // a deep copy mutate may scribble on
	if err != nil {
		return cur, tx.corrupt(fmt.Sprintf("job %q", id), err)
	}
	if err := callMutate(mutate, &next); err != nil {
		return cur, err
	}
	if next.ID != cur.ID || next.Role != cur.Role {
		return cur, fmt.Errorf("%w: mutate may not change a job's ID or role", ErrInvalid)
	}
	next.State, next.Created, next.Updated = to, cur.Created, cur.Updated
	canonJob(&next)
	if cur.State == to {
		if enc, _ := encode(next); bytes.Equal(enc, raw) {
			return cur, nil
		}
		return cur, fmt.Errorf("%w: job %q is already %s", ErrConflict, id, to)
	}
	if !m.can(cur.State, to) {
		return cur, &TransitionError{Kind: "job", ID: id, From: string(cur.State), To: string(to), Stale: m.reachable(to, cur.State)}
	}
	note := next.Note
	if note == cur.Note {
		note = "" // not set by this transition's mutate: don't repeat an old reason
	}
	return tx.writeJob(next, cur.State, note)
}

func (tx *Tx) writeJob(next Job, from JobState, note string) (Job, error) {
	next.Updated = tx.now
	if _, err := tx.putJob(next); err != nil {
		return Job{}, err
	}
	return next, tx.appendEvent("job", next.ID, next.ID, string(from), string(next.State), note)
}

// UpdateJob edits a job's fields without changing its state (no Event).
// mutate may not change ID, Role or State. An edit that changes nothing
// writes nothing.
func (tx *Tx) UpdateJob(id string, mutate func(*Job) error) (Job, error) {
	_, next, err := tx.updateJob(id, nil, mutate)
	return next, err
}

// updateJob is UpdateJob, returning the record as it was too. check (may
// be nil) sees that record first and may refuse the edit; when it answers
// write false the edited record (Updated now) is returned unwritten, for a
// caller that writes it itself right after (Advance).
func (tx *Tx) updateJob(id string, check func(cur Job) (write bool, err error), mutate func(*Job) error) (Job, Job, error) {
	cur, raw, checked, err := tx.getJobChecked(id)
	if err != nil {
		return Job{}, Job{}, err
	}
	write := true
	if check != nil {
		if write, err = check(cur); err != nil {
			return cur, cur, err
		}
	}
	next, err := tx.editJob(cur, raw, checked, mutate, write)
	return cur, next, err
}

func (tx *Tx) editJob(cur Job, raw []byte, checked bool, mutate func(*Job) error, write bool) (Job, error) {
	id := cur.ID
	next, err := copyJob(raw, checked)
	if err != nil {
		return cur, tx.corrupt(fmt.Sprintf("job %q", id), err)
	}
	if err := callMutate(mutate, &next); err != nil {
		return cur, err
	}
	if next.ID != cur.ID || next.Role != cur.Role || next.State != cur.State {
		return cur, fmt.Errorf("%w: UpdateJob may not change a job's ID, role or state", ErrInvalid)
	}
	next.Created, next.Updated = cur.Created, cur.Updated
	canonJob(&next)
	if !write {
		next.Updated = tx.now
		return next, nil
	}
	enc, _ := encode(next)
	if bytes.Equal(enc, raw) {
		return cur, nil
	}
	if enc != nil && cur.Updated.Equal(tx.now) && cur.Updated.Location() == tx.now.Location() {
		// Written earlier in this transaction: enc already carries
		// Updated = now, it is the record to store.
		next.Updated = tx.now
		return next, tx.putJobRaw(next, enc)
	}
	next.Updated = tx.now
	_, err = tx.putJob(next)
	return next, err
}

// Jobs lists jobs matching f, newest first.
//
// When every state in f is non-terminal (the settle loops' queries) only
// the open-jobs index is walked (index.go); otherwise every job is read.
func (tx *Tx) Jobs(f JobFilter) ([]Job, error) {
	var out []Job
	each := tx.eachJob
	if openOnly(f) {
		each = func(fn func(Job) error) error { return tx.eachOpenJob(f.Role, f.States, fn) }
	}
	err := each(func(j Job) error {
		if f.Role != "" && j.Role != f.Role {
			return nil
		}
		if len(f.States) > 0 && !containsState(f.States, j.State) {
			return nil
		}
		if !f.Since.IsZero() && j.Created.Before(f.Since) {
			return nil
		}
		out = append(out, j)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.After(out[b].Created) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// Unfinished returns the jobs not in a terminal state, oldest first.
func (tx *Tx) Unfinished() ([]Job, error) {
	var out []Job
	err := tx.eachOpenJob("", nil, func(j Job) error {
		out = append(out, j)
		return nil
	})
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.Before(out[b].Created) })
	return out, err
}

func (tx *Tx) eachJob(fn func(Job) error) error {
	b, err := tx.bucket(bucketJobs)
	if err != nil {
		return err
	}
	return b.ForEach(func(k, v []byte) error {
		j, err := decodeJob(v)
		if err == nil && j.ID != string(k) {
			err = fmt.Errorf("stored under the wrong key (%q)", truncate(j.ID))
		}
		if err != nil {
			return tx.corrupt(fmt.Sprintf("job %q", truncate(string(k))), err)
		}
		return fn(j)
	})
}

func containsState[S comparable](list []S, s S) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ---- deals ----

func canonDeal(d *Deal) { d.Created, d.Updated = utc(d.Created), utc(d.Updated) }

// Deal returns one deal, or ErrNotFound.
func (tx *Tx) Deal(id common.Hash) (Deal, error) {
	d, _, err := tx.getDeal(id)
	return d, err
}

func (tx *Tx) getDeal(id common.Hash) (Deal, []byte, error) {
	b, err := tx.bucket(bucketDeals)
	if err != nil {
		return Deal{}, nil, err
	}
	raw := b.Get(id[:])
	if raw == nil {
		return Deal{}, nil, fmt.Errorf("%w: deal %s", ErrNotFound, id)
	}
	d, err := decodeDeal(raw)
	if err != nil {
		return Deal{}, nil, tx.corrupt("deal "+id.Hex(), err)
	}
	if d.ID != id {
		return Deal{}, nil, tx.corrupt("deal "+id.Hex(), fmt.Errorf("stored under the wrong key (%s)", d.ID))
	}
	return d, canonical(raw, &d), nil
}

func (tx *Tx) putDeal(d Deal) error {
	b, err := tx.bucket(bucketDeals)
	if err != nil {
		return err
	}
	raw, err := encode(d)
	if err != nil {
		return err
	}
	return b.Put(d.ID[:], raw)
}

// PutDeal creates a deal; see Ledger.PutDeal.
func (tx *Tx) PutDeal(d Deal) (Deal, error) {
	switch {
	case d.ID == (common.Hash{}):
		return Deal{}, fmt.Errorf("%w: deal without ID", ErrInvalid)
	case d.Role != RoleClient && d.Role != RoleProvider:
		return Deal{}, fmt.Errorf("%w: deal %s role %q", ErrInvalid, d.ID, d.Role)
	case !deals.isInitial(d.State):
		return Deal{}, fmt.Errorf("%w: a deal starts in one of %v, not %q", ErrInvalid, deals.initial, d.State)
	case d.Price == nil || d.Price.Sign() < 0 || nonNeg("", d.MediatorFee) != nil || nonNeg("", d.Collateral) != nil:
		return Deal{}, fmt.Errorf("%w: deal %s amounts", ErrInvalid, d.ID)
	}
	canonDeal(&d)
	cur, raw, err := tx.getDeal(d.ID)
	switch {
	case err == nil:
		d.Created, d.Updated = cur.Created, cur.Updated
		if enc, _ := encode(d); bytes.Equal(enc, raw) {
			return cur, nil
		}
		return cur, fmt.Errorf("%w: deal %s", ErrExists, d.ID)
	case !errors.Is(err, ErrNotFound):
		return Deal{}, err
	}
	d.Created, d.Updated = tx.now, tx.now
	if err := tx.putDeal(d); err != nil {
		return Deal{}, err
	}
	return d, tx.appendEvent("deal", d.ID.Hex(), d.JobID, "", string(d.State), d.Note)
}

// TransitionDeal is Transition for deals.
func (tx *Tx) TransitionDeal(id common.Hash, to DealState, mutate func(*Deal) error) (Deal, error) {
	return tx.moveDeal(id, to, mutate, false)
}

// UpdateDeal edits a deal's fields without changing its state (no Event).
func (tx *Tx) UpdateDeal(id common.Hash, mutate func(*Deal) error) (Deal, error) {
	cur, err := tx.Deal(id)
	if err != nil {
		return Deal{}, err
	}
	return tx.moveDeal(id, cur.State, func(d *Deal) error {
		if err := callMutate(mutate, d); err != nil {
			return err
		}
		if d.State != cur.State {
			return fmt.Errorf("%w: UpdateDeal may not change the state", ErrInvalid)
		}
		return nil
	}, true)
}

// moveDeal: force allows a multi-step move to any state reachable from the
// current one (reconciliation) and in-place edits (UpdateDeal).
func (tx *Tx) moveDeal(id common.Hash, to DealState, mutate func(*Deal) error, force bool) (Deal, error) {
	cur, raw, err := tx.getDeal(id)
	if err != nil {
		return Deal{}, err
	}
	if !deals.known(to) {
		return cur, fmt.Errorf("%w: %q is not a deal state", ErrInvalid, to)
	}
	next, _ := decodeDeal(raw)
	if err := callMutate(mutate, &next); err != nil {
		return cur, err
	}
	if next.ID != cur.ID || next.Role != cur.Role {
		return cur, fmt.Errorf("%w: mutate may not change a deal's ID or role", ErrInvalid)
	}
	next.State, next.Created, next.Updated = to, cur.Created, cur.Updated
	canonDeal(&next)
	enc, _ := encode(next)
	if cur.State == to {
		if bytes.Equal(enc, raw) {
			return cur, nil
		}
		if !force {
			return cur, fmt.Errorf("%w: deal %s is already %s", ErrConflict, id, to)
		}
		next.Updated = tx.now
		return next, tx.putDeal(next)
	}
	if !deals.can(cur.State, to) && !(force && deals.reachable(cur.State, to)) {
		return cur, &TransitionError{Kind: "deal", ID: id.Hex(), From: string(cur.State), To: string(to), Stale: deals.reachable(to, cur.State)}
	}
	next.Updated = tx.now
	if err := tx.putDeal(next); err != nil {
		return Deal{}, err
	}
	return next, tx.appendEvent("deal", id.Hex(), next.JobID, string(cur.State), string(to), next.Note)
}

// Deals lists deals of role (any if "") in any of states (all if none),
// oldest first.
func (tx *Tx) Deals(role Role, states ...DealState) ([]Deal, error) {
	b, err := tx.bucket(bucketDeals)
	if err != nil {
		return nil, err
	}
	var out []Deal
	err = b.ForEach(func(k, v []byte) error {
		d, err := decodeDeal(v)
		if err != nil {
			return tx.corrupt(fmt.Sprintf("deal %x", k), err)
		}
		if (role == "" || d.Role == role) && (len(states) == 0 || containsState(states, d.State)) {
			out = append(out, d)
		}
		return nil
	})
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.Before(out[b].Created) })
	return out, err
}

// DealsToClaim: see Ledger.DealsToClaim.
func (tx *Tx) DealsToClaim(now time.Time) ([]Deal, error) {
	ds, err := tx.Deals(RoleProvider, DealSubmitted)
	if err != nil {
		return nil, err
	}
	out := ds[:0]
	for _, d := range ds {
		// The contract allows claim when block time > submittedAt + window.
		if d.SubmittedAt != 0 && now.Unix() > int64(d.SubmittedAt+d.ChallengeWindow) {
			out = append(out, d)
		}
	}
	return out, nil
}

// DealsToRefund: see Ledger.DealsToRefund.
func (tx *Tx) DealsToRefund(now time.Time) ([]Deal, error) {
	ds, err := tx.Deals(RoleClient, DealOpened)
	if err != nil {
		return nil, err
	}
	out := ds[:0]
	for _, d := range ds {
		// The contract allows refund when block time > deadline.
		if now.Unix() > int64(d.Deadline) {
			out = append(out, d)
		}
	}
	return out, nil
}

// ---- channels ----

func canonChannel(c *Channel) {
	c.Created, c.Updated, c.UnredeemedSince = utc(c.Created), utc(c.Updated), utc(c.UnredeemedSince)
	if c.Latest != nil {
		c.Latest.At = utc(c.Latest.At)
	}
}

// Channel returns one channel, or ErrNotFound.
func (tx *Tx) Channel(id common.Hash) (Channel, error) {
	c, _, err := tx.getChannel(id)
	return c, err
}

func (tx *Tx) getChannel(id common.Hash) (Channel, []byte, error) {
	b, err := tx.bucket(bucketChannels)
	if err != nil {
		return Channel{}, nil, err
	}
	raw := b.Get(id[:])
	if raw == nil {
		return Channel{}, nil, fmt.Errorf("%w: channel %s", ErrNotFound, id)
	}
	c, err := decodeChannel(raw)
	if err != nil {
		return Channel{}, nil, tx.corrupt("channel "+id.Hex(), err)
	}
	if c.ID != id {
		return Channel{}, nil, tx.corrupt("channel "+id.Hex(), fmt.Errorf("stored under the wrong key (%s)", c.ID))
	}
	return c, canonical(raw, &c), nil
}

func (tx *Tx) putChannel(c Channel) error {
	b, err := tx.bucket(bucketChannels)
	if err != nil {
		return err
	}
	raw, err := encode(c)
	if err != nil {
		return err
	}
	return b.Put(c.ID[:], raw)
}

// PutChannel creates a channel; see Ledger.PutChannel. Nil Redeemed and
// Promised are stored as 0.
func (tx *Tx) PutChannel(c Channel) (Channel, error) {
	if c.Redeemed == nil {
		c.Redeemed = new(big.Int)
	}
	if c.Promised == nil {
		c.Promised = new(big.Int)
	}
	switch {
	case c.ID == (common.Hash{}):
		return Channel{}, fmt.Errorf("%w: channel without ID", ErrInvalid)
	case c.Role != RoleClient && c.Role != RoleProvider:
		return Channel{}, fmt.Errorf("%w: channel %s role %q", ErrInvalid, c.ID, c.Role)
	case !channels.isInitial(c.State):
		return Channel{}, fmt.Errorf("%w: a channel starts in one of %v, not %q", ErrInvalid, channels.initial, c.State)
	case c.Deposit == nil || c.Deposit.Sign() < 0 || c.Redeemed.Sign() < 0 || c.Promised.Sign() < 0:
		return Channel{}, fmt.Errorf("%w: channel %s amounts", ErrInvalid, c.ID)
	}
	canonChannel(&c)
	cur, raw, err := tx.getChannel(c.ID)
	switch {
	case err == nil:
		c.Created, c.Updated = cur.Created, cur.Updated
		if enc, _ := encode(c); bytes.Equal(enc, raw) {
			return cur, nil
		}
		return cur, fmt.Errorf("%w: channel %s", ErrExists, c.ID)
	case !errors.Is(err, ErrNotFound):
		return Channel{}, err
	}
	c.Created, c.Updated = tx.now, tx.now
	if err := tx.putChannel(c); err != nil {
		return Channel{}, err
	}
	return c, tx.appendEvent("channel", c.ID.Hex(), "", "", string(c.State), c.Note)
}

// TransitionChannel is Transition for channels.
func (tx *Tx) TransitionChannel(id common.Hash, to ChannelState, mutate func(*Channel) error) (Channel, error) {
	return tx.moveChannel(id, to, mutate, false)
}

// UpdateChannel edits a channel's fields without changing its state (no
// Event), e.g. Deposit after a top-up. Use AcceptVoucher/IssueVoucher and
// RecordRedeemed for the voucher fields: their monotonicity is checked
// there, not here.
func (tx *Tx) UpdateChannel(id common.Hash, mutate func(*Channel) error) (Channel, error) {
	cur, err := tx.Channel(id)
	if err != nil {
		return Channel{}, err
	}
	return tx.moveChannel(id, cur.State, func(c *Channel) error {
		if err := callMutate(mutate, c); err != nil {
			return err
		}
		if c.State != cur.State {
			return fmt.Errorf("%w: UpdateChannel may not change the state", ErrInvalid)
		}
		return nil
	}, true)
}

func (tx *Tx) moveChannel(id common.Hash, to ChannelState, mutate func(*Channel) error, force bool) (Channel, error) {
	cur, raw, err := tx.getChannel(id)
	if err != nil {
		return Channel{}, err
	}
	if !channels.known(to) {
		return cur, fmt.Errorf("%w: %q is not a channel state", ErrInvalid, to)
	}
	next, _ := decodeChannel(raw)
	if err := callMutate(mutate, &next); err != nil {
		return cur, err
	}
	if next.ID != cur.ID || next.Role != cur.Role {
		return cur, fmt.Errorf("%w: mutate may not change a channel's ID or role", ErrInvalid)
	}
	for _, x := range []*big.Int{next.Deposit, next.Redeemed, next.Promised} {
		if x == nil || x.Sign() < 0 {
			return cur, fmt.Errorf("%w: channel %s amounts", ErrInvalid, id)
		}
	}
	next.State, next.Created, next.Updated = to, cur.Created, cur.Updated
	canonChannel(&next)
	enc, _ := encode(next)
	if cur.State == to {
		if bytes.Equal(enc, raw) {
			return cur, nil
		}
		if !force {
			return cur, fmt.Errorf("%w: channel %s is already %s", ErrConflict, id, to)
		}
		next.Updated = tx.now
		return next, tx.putChannel(next)
	}
	if !channels.can(cur.State, to) && !(force && channels.reachable(cur.State, to)) {
		return cur, &TransitionError{Kind: "channel", ID: id.Hex(), From: string(cur.State), To: string(to), Stale: channels.reachable(to, cur.State)}
	}
	next.Updated = tx.now
	if err := tx.putChannel(next); err != nil {
		return Channel{}, err
	}
	return next, tx.appendEvent("channel", id.Hex(), "", string(cur.State), string(to), next.Note)
}

// Channels lists channels of role (any if "") in any of states (all if
// none), oldest first.
func (tx *Tx) Channels(role Role, states ...ChannelState) ([]Channel, error) {
	b, err := tx.bucket(bucketChannels)
	if err != nil {
		return nil, err
	}
	var out []Channel
	err = b.ForEach(func(k, v []byte) error {
		c, err := decodeChannel(v)
		if err != nil {
			return tx.corrupt(fmt.Sprintf("channel %x", k), err)
		}
		if (role == "" || c.Role == role) && (len(states) == 0 || containsState(states, c.State)) {
			out = append(out, c)
		}
		return nil
	})
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.Before(out[b].Created) })
	return out, err
}

// ---- vouchers ----

// cumKey is the sortable key of a cumulative amount: 32 bytes big-endian.
// Amounts above 2^256-1 do not exist on an EVM chain and are refused.
func voucherKey(ch common.Hash, cum *big.Int) ([]byte, error) {
	if cum.Sign() < 0 || cum.BitLen() > 256 {
		return nil, fmt.Errorf("%w: voucher amount out of range", ErrInvalid)
	}
	k := make([]byte, 64)
	copy(k, ch[:])
	cum.FillBytes(k[32:])
	return k, nil
}

func (tx *Tx) putVoucher(v Voucher) error {
	b, err := tx.bucket(bucketVouchers)
	if err != nil {
		return err
	}
	k, err := voucherKey(v.ChannelID, v.Cumulative)
	if err != nil {
		return err
	}
	raw, err := encode(v)
	if err != nil {
		return err
	}
	return b.Put(k, raw)
}

func (tx *Tx) openChannel(id common.Hash, role Role) (Channel, error) {
	c, err := tx.Channel(id)
	if err != nil {
		return Channel{}, err
	}
	if c.Role != role {
		return c, fmt.Errorf("%w: channel %s is a %s channel here", ErrInvalid, id, c.Role)
	}
	if c.State != ChannelOpen {
		return c, &TransitionError{Kind: "channel", ID: id.Hex(), From: string(c.State), To: "voucher", Stale: c.State.Terminal() || c.State == ChannelExiting}
	}
	return c, nil
}

// IssueVoucher: see Ledger.IssueVoucher.
func (tx *Tx) IssueVoucher(chID common.Hash, jobID string, amount *big.Int, sign func(cumulative *big.Int) ([]byte, error)) (Voucher, error) {
	if err := checkID(jobID); err != nil {
		return Voucher{}, err
	}
	if amount == nil || amount.Sign() <= 0 {
		return Voucher{}, fmt.Errorf("%w: voucher amount must be positive", ErrInvalid)
	}
	if sign == nil {
		return Voucher{}, fmt.Errorf("%w: nil sign", ErrInvalid)
	}
	vj, err := tx.bucket(bucketVoucherJob)
	if err != nil {
		return Voucher{}, err
	}
	jk := append(chID[:len(chID):len(chID)], jobID...)
	if cum := vj.Get(jk); cum != nil {
		v, err := tx.voucherAt(chID, new(big.Int).SetBytes(cum))
		if err == nil && v.Amount != nil && v.Amount.Cmp(amount) != 0 {
			return v, fmt.Errorf("%w: job %q already has a voucher for %s on channel %s, not %s", ErrConflict, jobID, v.Amount, chID, amount)
		}
		return v, err
	}
	c, err := tx.openChannel(chID, RoleClient)
	if err != nil {
		return Voucher{}, err
	}
	// The next cumulative amount is what the jobs cost so far plus this
	// one: a credit (a refunded job) is used up before the amount grows.
	cum := new(big.Int).Add(c.Charged(), amount)
	if cum.Cmp(c.Deposit) > 0 {
		return Voucher{}, fmt.Errorf("%w: channel %s: %s charged + %s > deposit %s", ErrInsufficientDeposit, chID, c.Charged(), amount, c.Deposit)
	}
	sig, err := callSign(sign, new(big.Int).Set(cum))
	if err != nil {
		return Voucher{}, fmt.Errorf("ledger: sign voucher: %w", err)
	}
	v := Voucher{ChannelID: chID, Cumulative: cum, Signature: sig, JobID: jobID, Amount: new(big.Int).Set(amount), At: tx.now}
	if err := tx.putVoucher(v); err != nil {
		return Voucher{}, err
	}
	var cb [32]byte
	if err := vj.Put(jk, cum.FillBytes(cb[:])); err != nil {
		return Voucher{}, err
	}
	from := c.Promised.String()
	setPromised(&c, cum, &v)
	c.Updated = tx.now
	if err := tx.putChannel(c); err != nil {
		return Voucher{}, err
	}
	return v, tx.appendEvent("voucher", chID.Hex(), jobID, from, cum.String(), "issued")
}

func (tx *Tx) voucherAt(chID common.Hash, cum *big.Int) (Voucher, error) {
	b, err := tx.bucket(bucketVouchers)
	if err != nil {
		return Voucher{}, err
	}
	k, err := voucherKey(chID, cum)
	if err != nil {
		return Voucher{}, err
	}
	raw := b.Get(k)
	if raw == nil {
		return Voucher{}, tx.corrupt(fmt.Sprintf("voucher %s/%s", chID, cum), errors.New("indexed but missing"))
	}
	v, err := decodeVoucher(raw)
	if err != nil {
		return Voucher{}, tx.corrupt(fmt.Sprintf("voucher %s/%s", chID, cum), err)
	}
	return v, nil
}

// AcceptVoucher: see Ledger.AcceptVoucher.
func (tx *Tx) AcceptVoucher(v Voucher) (Channel, error) {
	if v.Cumulative == nil || v.Cumulative.Sign() <= 0 || len(v.Signature) == 0 || nonNeg("", v.Amount) != nil {
		return Channel{}, fmt.Errorf("%w: voucher needs a positive cumulative amount and a signature", ErrInvalid)
	}
	c, err := tx.openChannel(v.ChannelID, RoleProvider)
	if err != nil {
		return c, err
	}
	if v.Cumulative.Cmp(c.Promised) <= 0 {
		return c, fmt.Errorf("%w: channel %s: got %s, have %s", ErrVoucherNotHigher, v.ChannelID, v.Cumulative, c.Promised)
	}
	if v.Cumulative.Cmp(c.Deposit) > 0 {
		return c, fmt.Errorf("%w: channel %s: voucher %s > deposit %s", ErrInsufficientDeposit, v.ChannelID, v.Cumulative, c.Deposit)
	}
	v.Cumulative = new(big.Int).Set(v.Cumulative)
	if v.Amount == nil {
		v.Amount = new(big.Int).Sub(v.Cumulative, c.Promised)
	}
	v.At = tx.now
	if err := tx.putVoucher(v); err != nil {
		return c, err
	}
	from := c.Promised.String()
	if c.Promised.Cmp(c.Redeemed) <= 0 {
		c.UnredeemedSince = tx.now
	}
	c.Promised, c.Latest, c.Updated = v.Cumulative, &v, tx.now
	if err := tx.putChannel(c); err != nil {
		return c, err
	}
	return c, tx.appendEvent("voucher", v.ChannelID.Hex(), v.JobID, from, v.Cumulative.String(), "accepted")
}

// Vouchers lists a channel's vouchers, lowest first.
func (tx *Tx) Vouchers(chID common.Hash) ([]Voucher, error) {
	b, err := tx.bucket(bucketVouchers)
	if err != nil {
		return nil, err
	}
	var out []Voucher
	c := b.Cursor()
	for k, v := c.Seek(chID[:]); k != nil && bytes.HasPrefix(k, chID[:]); k, v = c.Next() {
		vo, err := decodeVoucher(v)
		if err != nil {
			return nil, tx.corrupt(fmt.Sprintf("voucher %x", k), err)
		}
		out = append(out, vo)
	}
	return out, nil
}

// RecordRedeemed: see Ledger.RecordRedeemed.
func (tx *Tx) RecordRedeemed(chID common.Hash, cumulative *big.Int, txHash common.Hash) (Channel, error) {
	if cumulative == nil || cumulative.Sign() < 0 {
		return Channel{}, fmt.Errorf("%w: redeemed amount", ErrInvalid)
	}
	c, err := tx.Channel(chID)
	if err != nil {
		return Channel{}, err
	}
	if cumulative.Cmp(c.Redeemed) <= 0 {
		return c, nil // monotonic: a replay or an older fact changes nothing
	}
	from := c.Redeemed.String()
	c.Redeemed = new(big.Int).Set(cumulative)
	if c.Redeemed.Cmp(c.Promised) >= 0 {
		c.UnredeemedSince = time.Time{}
	} else if next, err := tx.voucherAbove(chID, c.Redeemed); err != nil {
		return c, err
	} else if next != nil {
		c.UnredeemedSince = next.At
	}
	c.Updated = tx.now
	if err := tx.putChannel(c); err != nil {
		return c, err
	}
	note := "redeemed"
	if txHash != (common.Hash{}) {
		note += " in " + txHash.Hex()
	}
	if err := tx.appendEvent("channel", chID.Hex(), "", "redeemed "+from, "redeemed "+c.Redeemed.String(), note); err != nil {
		return c, err
	}
	// Provider jobs paid by vouchers now covered are finished.
	var done []Job
	if err := tx.eachOpenJob(RoleProvider, []JobState{JobVoucherHeld}, func(j Job) error {
		if j.Role == RoleProvider && j.State == JobVoucherHeld && j.ChannelID == chID &&
			j.Voucher != nil && j.Voucher.Cmp(c.Redeemed) <= 0 {
			done = append(done, j)
		}
		return nil
	}); err != nil {
		return c, err
	}
	for _, j := range done {
		j.State, j.Note = JobRedeemed, note
		if _, err := tx.writeJob(j, JobVoucherHeld, note); err != nil {
			return c, err
		}
	}
	return c, nil
}

// voucherAbove returns the lowest stored voucher with cumulative > x.
func (tx *Tx) voucherAbove(chID common.Hash, x *big.Int) (*Voucher, error) {
	b, err := tx.bucket(bucketVouchers)
	if err != nil {
		return nil, err
	}
	k, err := voucherKey(chID, new(big.Int).Add(x, big.NewInt(1)))
	if err != nil {
		return nil, nil //nolint:nilerr // above 2^256: nothing stored there
	}
	key, v := b.Cursor().Seek(k)
	if key == nil || !bytes.HasPrefix(key, chID[:]) {
		return nil, nil
	}
	vo, err := decodeVoucher(v)
	if err != nil {
		return nil, tx.corrupt(fmt.Sprintf("voucher %x", key), err)
	}
	return &vo, nil
}

// VouchersToRedeem: see Ledger.VouchersToRedeem.
func (tx *Tx) VouchersToRedeem(minAmount *big.Int, maxAge time.Duration, now time.Time) ([]Channel, error) {
	cs, err := tx.Channels(RoleProvider, ChannelOpen, ChannelExiting)
	if err != nil {
		return nil, err
	}
	out := cs[:0]
	for _, c := range cs {
		u := c.Unredeemed()
		if u.Sign() <= 0 {
			continue
		}
		due := c.State == ChannelExiting ||
			(minAmount == nil && maxAge <= 0) ||
			(minAmount != nil && u.Cmp(minAmount) >= 0) ||
			(maxAge > 0 && !c.UnredeemedSince.IsZero() && now.Sub(c.UnredeemedSince) >= maxAge)
		if due {
			out = append(out, c)
		}
	}
	return out, nil
}

// ---- replay protection ----

// RecordAward: see Ledger.RecordAward.
func (tx *Tx) RecordAward(jobID, nonce string) error {
	return tx.MarkSeen("award/"+jobID, nonce)
}

// MarkSeen: see Ledger.MarkSeen.
func (tx *Tx) MarkSeen(scope, key string) error {
	if scope == "" || key == "" || len(scope)+len(key) > maxID*2 || bytes.IndexByte([]byte(scope), 0) >= 0 {
		return fmt.Errorf("%w: seen scope/key", ErrInvalid)
	}
	b, err := tx.bucket(bucketSeen)
	if err != nil {
		return err
	}
	k := append(append([]byte(scope), 0), key...)
	if b.Get(k) != nil {
		return fmt.Errorf("%w: %s %q", ErrDuplicate, scope, key)
	}
	return b.Put(k, binary.BigEndian.AppendUint64(nil, uint64(tx.now.UnixNano())))
}

// Seen reports whether (scope, key) was marked.
func (tx *Tx) Seen(scope, key string) (bool, error) {
	b, err := tx.bucket(bucketSeen)
	if err != nil {
		return false, err
	}
	return b.Get(append(append([]byte(scope), 0), key...)) != nil, nil
}
