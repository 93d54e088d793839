package market

import (
	"context"
	"fmt"

	"github.com/cloudless-network/cloudless/market/wire"
)

// checkResult makes dir the result directory of a: from the Result's
// inline output when the provider sent one (its hash is checked against
// a.OutputHash, no network), else by fetching a.ResultCID over bitswap
// (fetchAndCheck). An inline output that does not hash to the claimed
// hash is a bad result: the provider signed both.
func (c *Client) checkResult(ctx context.Context, a *Assignment, inline []wire.InlineFile, dir string) error {
	if inline == nil {
		return c.fetchAndCheck(ctx, a, dir)
	}
	if inlineHash(a.ExitCode, inline) != a.OutputHash {
		return fmt.Errorf("%w: inline output of %s does not hash to the claimed hash", ErrBadResult, a.ResultCID)
	}
	if err := writeInline(dir, inline); err != nil {
		return fmt.Errorf("%w: inline output: %v", ErrBadResult, err)
	}
	return nil
}
