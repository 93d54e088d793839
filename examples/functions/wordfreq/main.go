// Command wordfreq prints the N most frequent words of its input, most
// frequent first, ties in alphabetical order. It is a Go function built for
// the sandbox with GOOS=wasip1 GOARCH=wasm:
//
//	GOOS=wasip1 GOARCH=wasm go build -o build/examples/wordfreq.wasm ./examples/functions/wordfreq
//	cloudless exec --stdin book.txt build/examples/wordfreq.wasm -- -n 5
//
// Input is stdin, or the files named as arguments (in a mounted input
// directory). A word is a run of letters, digits and apostrophes inside a
// word, compared in lower case, so "Don't" and "don't" count together. The
// output is one "count word" line per word, aligned like `uniq -c`.
package main

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode"
)

func main() {
	n := flag.Int("n", 10, "how many words to print (0: all)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: wordfreq [-n N] [FILE...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *n < 0 {
		fmt.Fprintln(os.Stderr, "wordfreq: -n must be >= 0")
		os.Exit(2)
	}
	counts := map[string]int{}
	if flag.NArg() == 0 {
		if err := count(os.Stdin, counts); err != nil {
			fmt.Fprintln(os.Stderr, "wordfreq: stdin:", err)
			os.Exit(1)
		}
	}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wordfreq:", err)
			os.Exit(1)
		}
		err = count(f, counts)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "wordfreq: %s: %v\n", name, err)
			os.Exit(1)
		}
	}
	w := bufio.NewWriter(os.Stdout)
	for _, e := range top(counts, *n) {
		fmt.Fprintf(w, "%7d %s\n", e.count, e.word)
	}
	if err := w.Flush(); err != nil {
		os.Exit(1)
	}
}

type entry struct {
	word  string
	count int
}

// top returns the n most frequent words (all if n is 0), by count
// descending, then word ascending, so the output is the same on every run.
func top(counts map[string]int, n int) []entry {
	es := make([]entry, 0, len(counts))
	for w, c := range counts {
		es = append(es, entry{w, c})
	}
	slices.SortFunc(es, func(a, b entry) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return strings.Compare(a.word, b.word)
	})
	if n > 0 && len(es) > n {
		es = es[:n]
	}
	return es
}

// count adds the words of r to counts.
func count(r io.Reader, counts map[string]int) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var word []rune
	flush := func() {
		// An apostrophe only counts inside a word: "'tis'" -> "tis".
		for len(word) > 0 && word[len(word)-1] == '\'' {
			word = word[:len(word)-1]
		}
		if len(word) > 0 {
			counts[string(word)]++
		}
		word = word[:0]
	}
	for {
		c, _, err := br.ReadRune()
		if err == io.EOF {
			flush()
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			word = append(word, unicode.ToLower(c))
		case (c == '\'' || c == '’') && len(word) > 0:
			word = append(word, '\'')
		default:
			flush()
		}
	}
}
