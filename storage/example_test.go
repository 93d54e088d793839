package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cloudless-network/cloudless/storage"
)

// Publishing gives the CID kubo's `ipfs add --cid-version=1` prints, and
// the content is pinned.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "store")
	defer os.RemoveAll(dir)

	st, err := storage.Open(ctx, filepath.Join(dir, "ipfs"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	c, _ := st.AddBytes(ctx, []byte("hello world\n"))
	fmt.Println(c)
	b, _ := st.ReadFile(ctx, c, 1<<20)
	fmt.Printf("%q\n", b)
	pins, _ := st.Pins(ctx)
	fmt.Println(len(pins), "pin")
	// Output:
	// bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4
	// "hello world\n"
	// 1 pin
}
