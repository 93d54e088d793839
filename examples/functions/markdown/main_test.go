package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudless-network/cloudless/executor"
	"github.com/cloudless-network/cloudless/trigger"
)

func TestRender(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"paragraph", "hello\nworld", "<p>hello\nworld</p>\n"},
		{"headings", "# One\n### Three ###\n####### seven", "<h1>One</h1>\n<h3>Three</h3>\n<p>####### seven</p>\n"},
		{"emphasis", "*em* **strong** _u_ __uu__ snake_case_name", "<p><em>em</em> <strong>strong</strong> <em>u</em> <strong>uu</strong> snake_case_name</p>\n"},
		{"nested emphasis", "**bold *and em* too**", "<p><strong>bold <em>and em</em> too</strong></p>\n"},
		{"unclosed", "a * b ** c _", "<p>a * b ** c _</p>\n"},
		{"code span", "use `a < b` and `` x ` y ``", "<p>use <code>a &lt; b</code> and <code>x ` y</code></p>\n"},
		{"escape html", "<script>alert('x')</script> & \"q\"", "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>\n"},
		{"backslash", `\*not em\*`, "<p>*not em*</p>\n"},
		{"link", "[the *site*](https://example.org \"t\")", `<p><a href="https://example.org">the <em>site</em></a></p>` + "\n"},
		{"relative link", "[up](../x?a=1&b=2)", `<p><a href="../x?a=1&amp;b=2">up</a></p>` + "\n"},
		{"unsafe link", "[click](javascript:alert(1))", "<p>click</p>\n"},
		{"fence", "```go\nfmt.Println(\"<hi>\")\n```\nafter", "<pre><code class=\"language-go\">fmt.Println(&quot;&lt;hi&gt;&quot;)\n</code></pre>\n<p>after</p>\n"},
		{"unclosed fence", "~~~\ncode", "<pre><code>code\n</code></pre>\n"},
		{"bullets", "- a\n- b *c*\n  more\n- d", "<ul>\n<li>a</li>\n<li>b <em>c</em>\nmore</li>\n<li>d</li>\n</ul>\n"},
		{"ordered", "1. one\n2. two\n\n3. three\n\npara", "<ol>\n<li>one</li>\n<li>two</li>\n<li>three</li>\n</ol>\n<p>para</p>\n"},
		{"nested list", "- a\n  - b\n  - c\n- d", "<ul>\n<li>a\n<ul>\n<li>b</li>\n<li>c</li>\n</ul></li>\n<li>d</li>\n</ul>\n"},
		{"quote", "> quoted *text*\n> # head\n\nout", "<blockquote>\n<p>quoted <em>text</em></p>\n<h1>head</h1>\n</blockquote>\n<p>out</p>\n"},
		{"break", "a\n\n---\n\n* * *\nb", "<p>a</p>\n<hr>\n<hr>\n<p>b</p>\n"},
		{"hard break", "line one  \nline two\\\nthree", "<p>line one<br>\nline two<br>\nthree</p>\n"},
		{"crlf", "# T\r\n\r\nx\r\n", "<h1>T</h1>\n<p>x</p>\n"},
	}
	for _, tc := range tests {
		if got := Render(tc.in); got != tc.want {
			t.Errorf("%s: Render(%q)\n got %q\nwant %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// FuzzRender: any input renders without panicking and without a raw '<'
// from the input (every tag in the output is one Render wrote).
func FuzzRender(f *testing.F) {
	for _, s := range []string{"# a\n\n*b* **c** `d`", "- a\n  - b\n> q", "[x](javascript:y) <b>", "```\n<", strings.Repeat("*", 100), strings.Repeat("> ", 50) + "x", strings.Repeat("[", 40) + "x" + strings.Repeat("](y)", 40)} {
		f.Add(s)
	}
	allowed := []string{"<p>", "</p>", "<h", "</h", "<em>", "</em>", "<strong>", "</strong>", "<code", "</code>", "<pre>", "</pre>",
		"<a href=", "</a>", "<ul>", "</ul>", "<ol>", "</ol>", "<li>", "</li>", "<blockquote>", "</blockquote>", "<hr>", "<br>"}
	f.Fuzz(func(t *testing.T, s string) {
		out := Render(s)
		for i := strings.IndexByte(out, '<'); i >= 0; {
			ok := false
			for _, a := range allowed {
				if strings.HasPrefix(out[i:], a) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("raw tag in output at %d: %q", i, out[i:min(len(out), i+20)])
			}
			j := strings.IndexByte(out[i+1:], '<')
			if j < 0 {
				break
			}
			i += j + 1
		}
	})
}

// TestCGI builds the function for wasip1 and runs it in the sandbox the
// way the gateway does (CGI environment, body on stdin), checking the
// response with the gateway's own CGI parser.
func TestCGI(t *testing.T) {
	mod := buildModule(t)
	ex, err := executor.New(executor.WithMaxConcurrent(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close(context.Background()) })
	run := func(env map[string]string, stdin string) (int, string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := ex.Run(ctx, executor.Spec{Module: mod, Env: env, Stdin: strings.NewReader(stdin), Deterministic: true,
			Limits: executor.Limits{Timeout: time.Minute, Memory: 128 * executor.MiB}})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 0 {
			t.Fatalf("exit %d stderr %q", res.ExitCode, res.Stderr)
		}
		status, h, body, err := trigger.ParseCGIResponse(res.Stdout)
		if err != nil {
			t.Fatalf("%v in %q", err, res.Stdout)
		}
		return status, h.Get("Content-Type"), string(body)
	}
	status, ct, body := run(map[string]string{"REQUEST_METHOD": "POST", "QUERY_STRING": ""}, "# Hi\n\n*there*")
	if status != 200 || ct != "text/html; charset=utf-8" || body != "<h1>Hi</h1>\n<p><em>there</em></p>\n" {
		t.Errorf("POST: %d %q %q", status, ct, body)
	}
	status, _, body = run(map[string]string{"REQUEST_METHOD": "GET", "QUERY_STRING": "text=**x**+%3C&page=1"}, "")
	if status != 200 || !strings.HasPrefix(body, "<!DOCTYPE html>") || !strings.Contains(body, "<p><strong>x</strong> &lt;</p>") {
		t.Errorf("GET page: %d %q", status, body)
	}
	status, _, _ = run(map[string]string{"REQUEST_METHOD": "DELETE"}, "")
	if status != 405 {
		t.Errorf("DELETE: %d", status)
	}
	// As a filter (no CGI environment), for `cloudless exec`.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := ex.Run(ctx, executor.Spec{Module: mod, Stdin: strings.NewReader("- a\n- b\n"), Deterministic: true,
		Limits: executor.Limits{Timeout: time.Minute, Memory: 128 * executor.MiB}})
	if err != nil || string(res.Stdout) != "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n" {
		t.Errorf("filter: %v %q", err, res.Stdout)
	}
}

// buildModule returns build/examples/markdown.wasm when `make examples`
// built it from the current sources, else builds it into a temp dir.
func buildModule(t *testing.T) []byte {
	t.Helper()
	built := filepath.Join("..", "..", "..", "build", "examples", "markdown.wasm")
	if st, err := os.Stat(built); err == nil {
		fresh := true
		ents, _ := os.ReadDir(".")
		for _, e := range ents {
			if info, err := e.Info(); err == nil && info.ModTime().After(st.ModTime()) {
				fresh = false
			}
		}
		if fresh {
			b, err := os.ReadFile(built)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is needed to build the module: %v", err)
	}
	out := filepath.Join(t.TempDir(), "markdown.wasm")
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
