package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// machine describes where the figures were taken.
type machine struct {
	CPU      string // model name from /proc/cpuinfo
	CPUID    string // brand string from a run's "cpu:" line, when there is one
	Cores    int
	MemoryGB float64
	Go       string
	OS       string
	Load     string // at generation time; each run records its own
}

// readMachine reads /proc (Linux); what it cannot read stays empty.
func readMachine(goVersion string) machine {
	m := machine{Cores: runtime.NumCPU(), Go: goVersion, OS: runtime.GOOS + "/" + runtime.GOARCH}
	if m.Go == "" {
		m.Go = runtime.Version()
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				m.MemoryGB = kb / (1 << 20)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	return m
}

func (m machine) String() string {
	cpu := m.CPU
	if m.CPUID != "" && m.CPUID != m.CPU {
		cpu += " (" + m.CPUID + ")"
	}
	return fmt.Sprintf("%s, %d cores, %.1f GiB RAM, %s, %s", cpu, m.Cores, m.MemoryGB, m.Go, m.OS)
}
