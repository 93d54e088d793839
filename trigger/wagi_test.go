package trigger

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCGIEnv(t *testing.T) {
	r := httptest.NewRequest("POST", "http://example.org:8080/thumb/a/b%20c?w=32&x=1", strings.NewReader("body"))
	r.Header.Set("Content-Type", "image/png")
	r.Header.Set("User-Agent", "test")
	r.Header.Add("X-Many", "1")
	r.Header.Add("X-Many", "2")
	r.Header.Set("Authorization", "Bearer secret")
	r.Header.Set("Proxy", "http://evil")
	r.RemoteAddr = "10.1.2.3:5555"
	env := CGIEnv(r, "/thumb", "127.0.0.1:8080")
	want := map[string]string{
		"GATEWAY_INTERFACE": "CGI/1.1",
		"REQUEST_METHOD":    "POST",
		"SCRIPT_NAME":       "/thumb",
		"PATH_INFO":         "/a/b c",
		"X_RAW_PATH_INFO":   "/a/b%20c",
		"QUERY_STRING":      "w=32&x=1",
		"CONTENT_TYPE":      "image/png",
		"CONTENT_LENGTH":    "4",
		"SERVER_NAME":       "127.0.0.1",
		"SERVER_PORT":       "8080",
		"SERVER_PROTOCOL":   "HTTP/1.1",
		"REMOTE_ADDR":       "10.1.2.3",
		"X_FULL_URL":        "http://example.org:8080/thumb/a/b%20c?w=32&x=1",
		"X_MATCHED_ROUTE":   "/thumb",
		"HTTP_USER_AGENT":   "test",
		"HTTP_X_MANY":       "1, 2",
		"HTTP_HOST":         "example.org:8080",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	for _, k := range []string{"HTTP_AUTHORIZATION", "HTTP_PROXY", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s passed to the function", k)
		}
	}

	// Root route, no server address: the Host names the server.
	r = httptest.NewRequest("GET", "http://h.example/x", nil)
	env = CGIEnv(r, "/", "")
	if env["SCRIPT_NAME"] != "/" || env["PATH_INFO"] != "/x" || env["SERVER_NAME"] != "h.example" || env["SERVER_PORT"] != "80" || env["CONTENT_LENGTH"] != "" {
		t.Errorf("root route env: %v", env)
	}
	// The route itself: empty PATH_INFO.
	r = httptest.NewRequest("GET", "http://h.example/thumb", nil)
	if env = CGIEnv(r, "/thumb", ""); env["PATH_INFO"] != "" {
		t.Errorf("PATH_INFO %q for the route itself", env["PATH_INFO"])
	}
}

func TestParseCGIResponse(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		status int
		header map[string]string
		body   string
		err    string // substring of the error; "" for success
	}{
		{"lf", "Content-Type: text/plain\n\nhello\n", 200, map[string]string{"Content-Type": "text/plain"}, "hello\n", ""},
		{"crlf", "Content-Type: text/html\r\nX-A:  b \r\n\r\n<p>", 200, map[string]string{"X-A": "b"}, "<p>", ""},
		{"status", "Status: 404 Not Found\nContent-Type: text/plain\n\nnope", 404, nil, "nope", ""},
		{"status code only", "Status: 201\nContent-Type: text/plain\n\n", 201, nil, "", ""},
		{"location", "Location: /elsewhere\n\n", 302, map[string]string{"Location": "/elsewhere"}, "", ""},
		{"location with status", "Status: 301 Moved\nLocation: /x\n\n", 301, nil, "", ""},
		{"no content 204", "Status: 204 No Content\n\n", 204, nil, "", ""},
		{"body with blank lines", "Content-Type: a/b\n\nx\n\ny\r\n\r\n", 200, nil, "x\n\ny\r\n\r\n", ""},
		{"empty", "", 0, nil, "", "printed nothing"},
		{"no blank line", "Content-Type: text/plain\nhello", 0, nil, "", "no blank line"},
		{"body only", "hello world\n\n", 0, nil, "", "no name: value"},
		{"no content type", "X-A: b\n\nbody", 0, nil, "", "no Content-Type"},
		{"invalid status", "Status: abc\nContent-Type: text/plain\n\n", 0, nil, "", "invalid Status"},
		{"status out of range", "Status: 999 Huh\nContent-Type: text/plain\n\n", 0, nil, "", "invalid Status"},
		{"status two digits", "Status: 20\nContent-Type: text/plain\n\n", 0, nil, "", "invalid Status"},
		{"bad name", "Bad Name: x\nContent-Type: text/plain\n\n", 0, nil, "", "not a valid token"},
		{"control char", "X-A: a\x01b\nContent-Type: text/plain\n\n", 0, nil, "", "control character"},
		{"huge headers", strings.Repeat("X-A: "+strings.Repeat("a", 1000)+"\n", 100) + "\n", 0, nil, "", "larger than"},
		{"huge no newline", strings.Repeat("a", MaxCGIHeader+1), 0, nil, "", "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body, err := ParseCGIResponse([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line wrapping ErrBadResponse containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status || string(body) != tc.body {
				t.Errorf("status %d body %q, want %d %q", status, body, tc.status, tc.body)
			}
			for k, v := range tc.header {
				if h.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
				}
			}
			if h.Get("Status") != "" {
				t.Errorf("Status header left in the response")
			}
		})
	}
}

// FuzzParseCGIResponse: any stdout gives a valid response or a one-line
// ErrBadResponse, never a panic; a parsed status is always 100-599.
func FuzzParseCGIResponse(f *testing.F) {
	for _, s := range []string{
		"Content-Type: text/plain\n\nhello",
		"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\n",
		"Location: /x\n\n",
		"Status: 99x\n\n",
		"no blank line",
		"\n\n",
		"X: \x00\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		status, h, body, err := ParseCGIResponse(b)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if status < 100 || status > 599 || h == nil || len(body) > len(b) {
			t.Fatalf("status %d header %v body %d of %d", status, h, len(body), len(b))
		}
		if h.Get("Content-Type") == "" && h.Get("Location") == "" && status != http.StatusNoContent && status != http.StatusNotModified {
			t.Fatalf("accepted a response without Content-Type or Location")
		}
	})
}
