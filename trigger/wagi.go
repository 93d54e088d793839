package trigger

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// This file is the WAGI convention (CGI 1.1, RFC 3875, as Fermyon Spin's
// WAGI executor applies it to WebAssembly): the request goes to the
// function as environment variables and stdin, and the function's stdout
// is a CGI response.

// MaxCGIHeader caps the header block of a CGI response (the part before
// the blank line). A function printing more is answered 502.
const MaxCGIHeader = 64 << 10

// CGIEnv returns the CGI 1.1 environment of r for a function mounted at
// route: REQUEST_METHOD, SCRIPT_NAME (the route), PATH_INFO (the path
// after the route), QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH,
// SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL, SERVER_SOFTWARE, REMOTE_ADDR,
// REMOTE_HOST, GATEWAY_INTERFACE=CGI/1.1, Spin's X_FULL_URL,
// X_MATCHED_ROUTE and X_RAW_PATH_INFO, and one HTTP_NAME per request
// header (upper case, '-' as '_', repeated headers joined with ", ").
//
// serverAddr is the gateway's listening address (host:port); when empty
// the request's Host is used. Authorization and Proxy headers are not
// passed (RFC 3875 §4.1.18 leaves them out for safety: the function may
// run on someone else's machine, and HTTP_PROXY is the "httpoxy" hole), nor
// are Content-Type and Content-Length, which have their own variables.
func CGIEnv(r *http.Request, route string, serverAddr string) map[string]string {
	route = strings.TrimSuffix(route, "/")
	path := r.URL.Path
	info := strings.TrimPrefix(path, route)
	if info != "" && !strings.HasPrefix(info, "/") {
		info = "/" + info
	}
	rawPath := r.URL.EscapedPath()
	rawInfo := strings.TrimPrefix(rawPath, route)

	host, port := splitHostPort(serverAddr)
	if host == "" {
		host, port = splitHostPort(r.Host)
	}
	if port == "" {
		port = "80"
		if r.TLS != nil {
			port = "443"
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	full := scheme + "://" + r.Host + r.URL.RequestURI()
	remote, _ := splitHostPort(r.RemoteAddr)

	env := map[string]string{
		"GATEWAY_INTERFACE": "CGI/1.1",
		"REQUEST_METHOD":    r.Method,
		"SCRIPT_NAME":       route,
		"PATH_INFO":         info,
		"PATH_TRANSLATED":   info,
		"QUERY_STRING":      r.URL.RawQuery,
		"SERVER_NAME":       host,
		"SERVER_PORT":       port,
		"SERVER_PROTOCOL":   r.Proto,
		"SERVER_SOFTWARE":   "cloudless",
		"REMOTE_ADDR":       remote,
		"REMOTE_HOST":       remote,
		"REMOTE_USER":       "",
		"AUTH_TYPE":         "",
		"CONTENT_TYPE":      r.Header.Get("Content-Type"),
		"CONTENT_LENGTH":    "",
		"X_FULL_URL":        full,
		"X_MATCHED_ROUTE":   route,
		"X_RAW_PATH_INFO":   rawInfo,
	}
	if env["SERVER_PROTOCOL"] == "" {
		env["SERVER_PROTOCOL"] = "HTTP/1.1"
	}
	if env["SCRIPT_NAME"] == "" {
		env["SCRIPT_NAME"] = "/"
		env["X_MATCHED_ROUTE"] = "/"
	}
	if r.ContentLength > 0 {
		env["CONTENT_LENGTH"] = strconv.FormatInt(r.ContentLength, 10)
	}
	for name, vals := range r.Header {
		switch textproto.CanonicalMIMEHeaderKey(name) {
		case "Authorization", "Proxy-Authorization", "Proxy", "Content-Type", "Content-Length":
			continue
		}
		k := "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		env[k] = strings.Join(vals, ", ")
	}
	if r.Host != "" {
		env["HTTP_HOST"] = r.Host
	}
	return env
}

// splitHostPort splits "host:port", tolerating a missing port.
func splitHostPort(s string) (host, port string) {
	if s == "" {
		return "", ""
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return s, ""
	}
	return h, p
}

// ParseCGIResponse reads a function's stdout as a CGI response (RFC 3875
// §6): header lines, a blank line (LF or CRLF line ends), then the body.
// "Status: 404 Not Found" sets the code; a Location header without a
// Status is a 302 redirect; otherwise the status is 200 and a Content-Type
// is required.
//
// # Errors
//
// Every error wraps ErrBadResponse and is one line saying what is wrong:
// empty output, no blank line after the headers, a header block over
// MaxCGIHeader, a malformed header line, an invalid Status, or neither
// Content-Type nor Location.
func ParseCGIResponse(stdout []byte) (status int, header http.Header, body []byte, err error) {
	bad := func(format string, args ...any) (int, http.Header, []byte, error) {
		return 0, nil, nil, fmt.Errorf("%w: "+format, append([]any{ErrBadResponse}, args...)...)
	}
	if len(stdout) == 0 {
		return bad("the function printed nothing (want headers, a blank line, the body)")
	}
	header = http.Header{}
	rest := stdout
	n := 0
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if len(stdout) > MaxCGIHeader {
				return bad("header block is larger than %d bytes", MaxCGIHeader)
			}
			return bad("no blank line after the headers")
		}
		line := rest[:i]
		rest = rest[i+1:]
		n += i + 1
		if n > MaxCGIHeader {
			return bad("header block is larger than %d bytes", MaxCGIHeader)
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return bad("header line %q has no name: value", clip(line))
		}
		name := string(line[:colon])
		if !validHeaderName(name) {
			return bad("header name %q is not a valid token", clip(line[:colon]))
		}
		val := strings.TrimSpace(string(line[colon+1:]))
		if !validHeaderValue(val) {
			return bad("header %s has a control character in its value", name)
		}
		header.Add(name, val)
	}
	body = rest
	status = http.StatusOK
	if s := header.Get("Status"); s != "" {
		code, ok := parseStatus(s)
		if !ok {
			return bad("invalid Status %q (want a three-digit code 100-599 and an optional reason)", clip([]byte(s)))
		}
		status = code
		header.Del("Status")
	} else if header.Get("Location") != "" {
		status = http.StatusFound
	}
	if header.Get("Content-Type") == "" && header.Get("Location") == "" && status != http.StatusNoContent && status != http.StatusNotModified {
		return bad("no Content-Type header (print e.g. \"Content-Type: text/plain\" then a blank line)")
	}
	return status, header, body, nil
}

// parseStatus reads "404" or "404 Not Found".
func parseStatus(s string) (int, bool) {
	code, _, _ := strings.Cut(s, " ")
	if len(code) != 3 {
		return 0, false
	}
	n, err := strconv.Atoi(code)
	if err != nil || n < 100 || n > 599 {
		return 0, false
	}
	return n, true
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return s != ""
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// clip shortens b for a one-line message.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
