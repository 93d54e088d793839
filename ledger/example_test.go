package ledger_test

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/cloudless-network/cloudless/ledger"
)

// A client's pay-in: the job moves to paying and the escrow deal is
// recorded in one fsynced transaction, and only then is the OpenDeal
// transaction sent. A crash after the send finds the deal on restart.
func ExampleLedger_Update() {
	dir, _ := os.MkdirTemp("", "ledger-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	l, err := ledger.Open(filepath.Join(dir, ledger.FileName), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	job := ledger.Job{ID: "3f2a", Role: ledger.RoleClient, State: ledger.JobBidding}
	if _, err := l.PutJob(ctx, job); err != nil {
		fmt.Println(err)
		return
	}
	dealID := common.HexToHash("0xd1") // contracts.DealID(chainID, contract, params)
	err = l.Update(ctx, func(tx *ledger.Tx) error {
		if _, err := tx.Transition(job.ID, ledger.JobPaying, func(j *ledger.Job) error {
			j.DealID, j.Price, j.Note = dealID, big.NewInt(1e15), "cheapest bid"
			return nil
		}); err != nil {
			return err
		}
		_, err := tx.PutDeal(ledger.Deal{ID: dealID, Role: ledger.RoleClient, State: ledger.DealOpening, JobID: job.ID, Price: big.NewInt(1e15)})
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// ... now send OpenDeal; after its receipt:
	_, _ = l.TransitionDeal(ctx, dealID, ledger.DealOpened, nil)

	// A replayed step changes nothing and says so.
	_, err = l.Transition(ctx, job.ID, ledger.JobRequested, nil)
	fmt.Println(err)

	h, _ := l.History(ctx, job.ID)
	for _, e := range h {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %s -> %s %s", e.Kind, e.From, e.To, e.Note)))
	}
	// Output:
	// ledger: job 3f2a: illegal transition paying -> requested (already past it)
	// job  -> bidding
	// job bidding -> paying cheapest bid
	// deal  -> opening
	// deal opening -> opened
}
