package ledger

// The state machines. A record may only move along these edges; the same
// state again is the idempotent no-op (see Tx.Transition). Terminal states
// have no outgoing edges. Keep docs/rationale/ledger.md and DESIGN.md "A
// job's life" in step with these tables.

var clientJobEdges = map[JobState][]JobState{
	JobRequested: {JobBidding, JobCancelled, JobFailed},
	JobBidding:   {JobPaying, JobCancelled, JobFailed},
	// paying: deal being opened / voucher issued. Back to bidding when the
	// chosen provider vanished before the award (retry); refunded when the
	// deal was opened but the award never went out.
	JobPaying:         {JobAwarded, JobBidding, JobRefunded, JobCancelled, JobFailed},
	JobAwarded:        {JobRunning, JobResultReceived, JobBidding, JobDisputed, JobRefunded, JobCancelled, JobFailed},
	JobRunning:        {JobResultReceived, JobBidding, JobDisputed, JobRefunded, JobCancelled, JobFailed},
	JobResultReceived: {JobVerified, JobBidding, JobDisputed, JobRefunded, JobFailed},
	JobVerified:       {JobAccepted, JobDisputed},
	JobDisputed:       {JobAccepted, JobRefunded, JobFailed},
}

var providerJobEdges = map[JobState][]JobState{
	JobBidSent:         {JobAwarded, JobCancelled, JobFailed},
	JobAwarded:         {JobPaymentVerified, JobCancelled, JobFailed},
	JobPaymentVerified: {JobRunning, JobRefunded, JobCancelled, JobFailed},
	JobRunning:         {JobResultStored, JobRefunded, JobCancelled, JobFailed},
	// result_stored -> committed: an escrow provider commits the hash on
	// chain before it reveals the result to the client.
	JobResultStored: {JobResultSent, JobCommitted, JobRefunded, JobFailed},
	// result_sent: escrow goes on to commit; channel holds the voucher.
	JobResultSent:  {JobCommitted, JobVoucherHeld, JobPaid, JobRefunded, JobFailed},
	JobCommitted:   {JobPaid, JobDisputed, JobRefunded},
	JobDisputed:    {JobPaid, JobRefunded},
	JobVoucherHeld: {JobRedeemed, JobFailed},
}

var dealEdges = map[DealState][]DealState{
	DealOpening:   {DealOpened, DealAbandoned},
	DealOpened:    {DealSubmitted, DealRefunded},
	DealSubmitted: {DealAccepted, DealClaimed, DealDisputed},
	DealDisputed:  {DealResolved, DealRefunded}, // refunded: mediation timed out
}

var channelEdges = map[ChannelState][]ChannelState{
	ChannelOpening: {ChannelOpen, ChannelAbandoned},
	ChannelOpen:    {ChannelExiting, ChannelClosed},
	ChannelExiting: {ChannelClosed},
}

// Initial states a record may be created in.
var (
	clientJobInitial   = []JobState{JobRequested, JobBidding}
	providerJobInitial = []JobState{JobBidSent, JobAwarded}
	dealInitial        = []DealState{DealOpening, DealOpened}
	channelInitial     = []ChannelState{ChannelOpening, ChannelOpen}
)

// machine is one state machine over states of type S.
type machine[S ~string] struct {
	edges   map[S][]S
	initial []S
	states  map[S]bool // every state mentioned
}

func newMachine[S ~string](edges map[S][]S, initial []S) machine[S] {
	m := machine[S]{edges: edges, initial: initial, states: map[S]bool{}}
	for from, tos := range edges {
		m.states[from] = true
		for _, to := range tos {
			m.states[to] = true
		}
	}
	for _, s := range initial {
		m.states[s] = true
	}
	return m
}

func (m machine[S]) known(s S) bool { return m.states[s] }

func (m machine[S]) isInitial(s S) bool {
	for _, i := range m.initial {
		if i == s {
			return true
		}
	}
	return false
}

func (m machine[S]) can(from, to S) bool {
	for _, t := range m.edges[from] {
		if t == to {
			return true
		}
	}
	return false
}

func (m machine[S]) terminal(s S) bool { return m.known(s) && len(m.edges[s]) == 0 }

// reachable reports whether to can be reached from from by one or more
// legal edges.
func (m machine[S]) reachable(from, to S) bool {
	seen := map[S]bool{from: true}
	queue := []S{from}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, t := range m.edges[s] {
			if t == to {
				return true
			}
			if !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	return false
}

var (
	clientJobs   = newMachine(clientJobEdges, clientJobInitial)
	providerJobs = newMachine(providerJobEdges, providerJobInitial)
	deals        = newMachine(dealEdges, dealInitial)
	channels     = newMachine(channelEdges, channelInitial)
)

func jobMachine(r Role) (machine[JobState], bool) {
	switch r {
	case RoleClient:
		return clientJobs, true
	case RoleProvider:
		return providerJobs, true
	}
	return machine[JobState]{}, false
}

// CanTransition reports whether a job of role may move from one state to
// another in one step.
func CanTransition(role Role, from, to JobState) bool {
	m, ok := jobMachine(role)
	return ok && m.can(from, to)
}

// Terminal reports whether s is a terminal state for role.
func (s JobState) Terminal(role Role) bool {
	m, ok := jobMachine(role)
	return ok && m.terminal(s)
}

// Terminal reports whether the job is in a terminal state.
func (j Job) Terminal() bool { return j.State.Terminal(j.Role) }

// Terminal reports whether s is a terminal deal state.
func (s DealState) Terminal() bool { return deals.terminal(s) }

// Terminal reports whether s is a terminal channel state.
func (s ChannelState) Terminal() bool { return channels.terminal(s) }

// JobStates lists the states of role's machine (for CLIs and tests).
func JobStates(role Role) []JobState {
	m, ok := jobMachine(role)
	if !ok {
		return nil
	}
	out := make([]JobState, 0, len(m.states))
	for s := range m.states {
		out = append(out, s)
	}
	sortStrings(out)
	return out
}
