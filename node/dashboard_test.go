package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestDashboard loads /ui/ in a real headless Chromium against a running
// daemon, checks that a job that was just run shows up (and that a job run
// while the page is open appears without a reload), that the token left
// the address bar, and that the page logged no console error, warning or
// exception. Set CLOUDLESS_CHROMIUM=/usr/bin/chromium (make test-ui).
func TestDashboard(t *testing.T) {
	exe := os.Getenv("CLOUDLESS_CHROMIUM")
	if exe == "" {
		t.Skip("CLOUDLESS_CHROMIUM not set (make test-ui installs chromium and sets it)")
	}
	d := startDashboardTarget(t)
	first := d.runJob(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1360, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	var mu sync.Mutex
	var problems []string
	// Listen starts the browser; its timeout is the whole test's.
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, fmt.Sprintf("%s%s", a.Value, a.Description))
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}); err != nil {
		t.Fatalf("start chromium %s: %v", exe, err)
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.url+"/ui/#token="+d.token),
		chromedp.WaitVisible(chromedp.ID("dash")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#jobs tr[data-job=%q]`, first))),
	); err != nil {
		t.Fatalf("dashboard did not show job %s: %v", first, err)
	}
	hash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash`))
	if err != nil {
		t.Fatal(err)
	}
	whoami, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("whoami")))
	if err != nil {
		t.Fatal(err)
	}
	if hash != "" {
		t.Errorf("token left in the address bar: %q", hash)
	}
	if !strings.Contains(whoami, d.peerID) {
		t.Errorf("header shows %q, want the peer ID %s", whoami, d.peerID)
	}

	// A job run while the page is open appears without a reload.
	second := d.runJob(t)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#jobs tr[data-job=%q]`, second)))); err != nil {
		t.Fatalf("live job %s did not appear: %v", second, err)
	}
	jobsText, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("jobs")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(jobsText, d.finalState) {
		t.Errorf("jobs table lacks state %q:\n%s", d.finalState, jobsText)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 = PNG
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join("..", "build", "dashboard.png")
	if err := os.MkdirAll(filepath.Dir(shot), 0o755); err == nil {
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Log("screenshot:", err)
		} else {
			t.Log("screenshot written to build/dashboard.png")
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Fatalf("the page reported %d problem(s):\n%s", len(problems), strings.Join(problems, "\n"))
	}
}
