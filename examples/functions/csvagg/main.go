// Command csvagg is a small data job: it groups the rows of CSV files by one
// column and reports, per group, the row count and the sum, mean, minimum and
// maximum of numeric columns. It is built for the sandbox with
// GOOS=wasip1 GOARCH=wasm and reads its input from stdin or from a directory
// the job mounts read-only:
//
//	cloudless exec --dir ./sales:/data --out ./report \
//	    build/examples/csvagg.wasm -- -by region -sum units,revenue /data
//
// It writes the report as CSV to /out/report.csv when the job has an /out
// directory (or to -out FILE; "-out -" means stdout), and prints the same
// report as an aligned table on stdout.
//
// Input: each argument is a CSV file or a directory whose *.csv files are read
// in name order; with no argument, stdin. Every file starts with a header
// row, and all files must have the same header. Empty cells of a numeric
// column are missing values: they count toward the group's rows but not
// toward that column's statistics. Groups are sorted by name, so the same
// input always gives the same bytes.
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.by, "by", "", "column to group by (required)")
	sum := flag.String("sum", "", "comma-separated numeric columns to aggregate")
	flag.StringVar(&cfg.out, "out", "", `report file (default /out/report.csv if /out exists, else none; "-" for stdout)`)
	flag.IntVar(&cfg.prec, "prec", 2, "decimal places in the report")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: csvagg -by COLUMN [-sum COL[,COL...]] [-out FILE] [-prec N] [FILE|DIR...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if cfg.by == "" {
		flag.Usage()
		os.Exit(2)
	}
	if *sum != "" {
		cfg.sum = strings.Split(*sum, ",")
	}
	if cfg.out == "" {
		if st, err := os.Stat("/out"); err == nil && st.IsDir() {
			cfg.out = "/out/report.csv"
		}
	}
	if err := run(cfg, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "csvagg:", err)
		os.Exit(1)
	}
}

type config struct {
	by   string
	sum  []string
	out  string
	prec int
}

// stat accumulates one numeric column of one group.
type stat struct {
	n             int
	sum, min, max float64
}

func (s *stat) add(v float64) {
	if s.n == 0 || v < s.min {
		s.min = v
	}
	if s.n == 0 || v > s.max {
		s.max = v
	}
	s.n++
	s.sum += v
}

type group struct {
	rows  int
	stats []stat // one per cfg.sum column
}

// agg is the running aggregation over all input files.
type agg struct {
	cfg    config
	header []string
	byIdx  int
	sumIdx []int
	groups map[string]*group
	rows   int
}

func run(cfg config, inputs []string) error {
	a := &agg{cfg: cfg, groups: map[string]*group{}}
	if len(inputs) == 0 {
		if err := a.read(os.Stdin, "stdin"); err != nil {
			return err
		}
	}
	for _, in := range inputs {
		files, err := expand(in)
		if err != nil {
			return err
		}
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			err = a.read(f, name)
			f.Close()
			if err != nil {
				return err
			}
		}
	}
	if a.header == nil {
		return errors.New("no input rows: every input needs at least a header row")
	}
	report := a.report()
	if err := printTable(os.Stdout, report); err != nil {
		return err
	}
	switch cfg.out {
	case "":
	case "-":
		return writeCSV(os.Stdout, report)
	default:
		f, err := os.Create(cfg.out)
		if err != nil {
			return err
		}
		if err := writeCSV(f, report); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", cfg.out, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Printf("\nwrote %s: %d groups from %d rows\n", cfg.out, len(report)-1, a.rows)
	}
	return nil
}

// expand turns a directory into its *.csv files in name order.
func expand(in string) ([]string, error) {
	st, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{in}, nil
	}
	ents, err := os.ReadDir(in)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
			files = append(files, filepath.Join(in, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no .csv files", in)
	}
	slices.Sort(files)
	return files, nil
}

func (a *agg) read(r io.Reader, name string) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: empty, want a header row", name)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := a.setHeader(header, name); err != nil {
		return err
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		key := rec[a.byIdx]
		g := a.groups[key]
		if g == nil {
			g = &group{stats: make([]stat, len(a.sumIdx))}
			a.groups[key] = g
		}
		g.rows++
		a.rows++
		for i, idx := range a.sumIdx {
			cell := strings.TrimSpace(rec[idx])
			if cell == "" {
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s:%d: column %q: %q is not a number", name, line, a.header[idx], cell)
			}
			g.stats[i].add(v)
		}
	}
}

func (a *agg) setHeader(header []string, name string) error {
	if a.header != nil {
		if !slices.Equal(a.header, header) {
			return fmt.Errorf("%s: header %q differs from the first file's %q", name, header, a.header)
		}
		return nil
	}
	a.header = slices.Clone(header)
	a.byIdx = slices.Index(a.header, a.cfg.by)
	if a.byIdx < 0 {
		return fmt.Errorf("%s: no column %q (columns: %s)", name, a.cfg.by, strings.Join(a.header, ", "))
	}
	for _, c := range a.cfg.sum {
		i := slices.Index(a.header, strings.TrimSpace(c))
		if i < 0 {
			return fmt.Errorf("%s: no column %q (columns: %s)", name, c, strings.Join(a.header, ", "))
		}
		a.sumIdx = append(a.sumIdx, i)
	}
	return nil
}

// report returns the header row and one row per group, sorted by group.
func (a *agg) report() [][]string {
	head := []string{a.cfg.by, "rows"}
	for _, i := range a.sumIdx {
		c := a.header[i]
		head = append(head, c+"_sum", c+"_avg", c+"_min", c+"_max")
	}
	out := [][]string{head}
	keys := make([]string, 0, len(a.groups))
	for k := range a.groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', a.cfg.prec, 64) }
	for _, k := range keys {
		g := a.groups[k]
		row := []string{k, strconv.Itoa(g.rows)}
		for _, s := range g.stats {
			if s.n == 0 {
				row = append(row, "", "", "", "")
				continue
			}
			row = append(row, num(s.sum), num(s.sum/float64(s.n)), num(s.min), num(s.max))
		}
		out = append(out, row)
	}
	return out
}

func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

func printTable(w io.Writer, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	return tw.Flush()
}
