// Command gen writes the Go bindings of the compiled contracts with
// go-ethereum's abigen (bind v2). Run from the contracts directory:
//
//	go run ./internal/gen [-artifacts artifacts] [-out marketplace_bind.go]
//
// `make contracts` runs it after scripts/compile.js.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi/abigen"
)

func main() {
	artifacts := flag.String("artifacts", "artifacts", "directory with <Name>.abi and <Name>.bin")
	out := flag.String("out", "marketplace_bind.go", "output Go file")
	pkg := flag.String("pkg", "contracts", "Go package name")
	flag.Parse()
	if err := run(*artifacts, *out, *pkg, []string{"Marketplace"}); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir, out, pkg string, names []string) error {
	var abis, bins []string
	for _, n := range names {
		a, err := os.ReadFile(filepath.Join(dir, n+".abi"))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, n+".bin"))
		if err != nil {
			return err
		}
		abis = append(abis, string(a))
		bins = append(bins, strings.TrimSpace(string(b)))
	}
	code, err := abigen.BindV2(names, abis, bins, pkg, nil, nil)
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	return os.WriteFile(out, []byte(code), 0o644)
}
