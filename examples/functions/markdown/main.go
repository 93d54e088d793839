// Command markdown is an HTTP function: it renders Markdown to HTML. It
// speaks WAGI (CGI 1.1), the convention of the cloudless gateway: the
// request arrives as environment variables (REQUEST_METHOD, QUERY_STRING,
// ...) and the body on stdin; the response goes to stdout as headers, a
// blank line and the body. Built with GOOS=wasip1 GOARCH=wasm and deployed
// with examples/cloudless.yaml:
//
//	cloudless deploy -f examples/cloudless.yaml
//	curl --data-binary @README.md http://127.0.0.1:8080/markdown
//	curl 'http://127.0.0.1:8080/markdown?text=*hello*+world'
//
// POST renders the body; GET renders the text= query parameter; ?page=1
// wraps the fragment in a whole HTML document. Other methods get 405.
// Without REQUEST_METHOD (run with `cloudless exec`) it is a filter:
// Markdown on stdin, the HTML fragment on stdout.
//
// The Markdown is a small CommonMark subset written here (no dependency):
// ATX headings, paragraphs, emphasis and strong (* and _), code spans,
// fenced code blocks, links, bullet and ordered lists, block quotes,
// thematic breaks and hard line breaks. Raw HTML is escaped, never passed
// through, and links only keep http, https, mailto and relative targets,
// so any input gives safe HTML.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// maxInput caps what is read from stdin (the gateway caps the body too).
const maxInput = 4 << 20

func main() {
	method := os.Getenv("REQUEST_METHOD")
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	if method == "" {
		src, err := io.ReadAll(io.LimitReader(os.Stdin, maxInput))
		if err != nil {
			fmt.Fprintln(os.Stderr, "markdown:", err)
			os.Exit(1)
		}
		w.WriteString(Render(string(src)))
		return
	}
	q, _ := url.ParseQuery(os.Getenv("QUERY_STRING"))
	var src string
	switch method {
	case "GET", "HEAD":
		src = q.Get("text")
		if src == "" {
			src = "# markdown\n\nPOST Markdown to this URL, or GET it with `?text=...`; add `?page=1` for a whole page.\n"
		}
	case "POST", "PUT":
		b, err := io.ReadAll(io.LimitReader(os.Stdin, maxInput+1))
		if err != nil || len(b) > maxInput {
			w.WriteString("Status: 413 Content Too Large\r\nContent-Type: text/plain\r\n\r\nthe Markdown is larger than 4 MiB\n")
			return
		}
		src = string(b)
	default:
		w.WriteString("Status: 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, PUT\r\nContent-Type: text/plain\r\n\r\nuse GET ?text=... or POST the Markdown\n")
		return
	}
	html := Render(src)
	if q.Get("page") != "" {
		html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title(src)) + "</title></head>\n<body>\n" + html + "</body></html>\n"
	}
	w.WriteString("Content-Type: text/html; charset=utf-8\r\n\r\n")
	w.WriteString(html)
}

// title is the text of the first heading, or "markdown".
func title(src string) string {
	for _, line := range strings.Split(src, "\n") {
		if lvl, text := heading(line); lvl > 0 {
			return text
		}
	}
	return "markdown"
}
