package node

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudless-network/cloudless/node/client"
	"github.com/cloudless-network/cloudless/storage"
)

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// memJobs is an in-memory JobService for the handler tests: the handler's
// job is HTTP, auth and encoding, which these tests pin down without a
// market. The daemon tests run the real parts.
type memJobs struct {
	mu   sync.Mutex
	jobs []client.Job
}

func (m *memJobs) Jobs(context.Context) ([]client.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]client.Job(nil), m.jobs...), nil
}

func (m *memJobs) Job(_ context.Context, id string) (client.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, j := range m.jobs {
		if j.ID == id {
			return j, nil
		}
	}
	return client.Job{}, fmt.Errorf("job %s: %w", id, ErrNotFound)
}

func (m *memJobs) Submit(_ context.Context, spec json.RawMessage) (client.Job, error) {
	var s struct {
		Module string `json:"module"`
	}
	if err := json.Unmarshal(spec, &s); err != nil || s.Module == "" {
		return client.Job{}, fmt.Errorf("%w: module is required", ErrBadRequest)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	j := client.Job{ID: fmt.Sprintf("job-%d", len(m.jobs)+1), Module: s.Module, State: "requested", Role: "client", Updated: time.Now()}
	m.jobs = append(m.jobs, j)
	return j, nil
}

func (m *memJobs) Cancel(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.jobs {
		if m.jobs[i].ID == id {
			m.jobs[i].State, m.jobs[i].Updated = "cancelled", time.Now()
			return nil
		}
	}
	return fmt.Errorf("job %s: %w", id, ErrNotFound)
}

type fixedID struct{}

func (fixedID) ID(context.Context) (client.ID, error) {
	return client.ID{PeerID: "16Uiu2HAmTest", Address: "0x0000000000000000000000000000000000000001", Addrs: []string{}, Running: true}, nil
}

func newTestAPI(t testing.TB, svc Services, opts APIOptions) *client.Client {
	t.Helper()
	srv := httptest.NewServer(NewAPI(svc, testToken, opts))
	t.Cleanup(srv.Close)
	return client.New(srv.URL, testToken, "testrepo")
}

func TestAPIAuth(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := newTestAPI(t, Services{Identity: fixedID{}}, APIOptions{Gatherer: reg, Registerer: reg})
	base := c.Addr()
	cases := []struct {
		path, auth string
		want       int
	}{
		{"/v1/id", "", 401},
		{"/v1/id", "Bearer wrong", 401},
		{"/v1/id", "Bearer " + testToken[:len(testToken)-1], 401},
		{"/v1/id", "Basic " + testToken, 401},
		{"/v1/id", "Bearer " + testToken, 200},
		{"/v1/peers", "", 401},
		{"/v1/jobs", "", 401},
		{"/v1/events", "", 401},
		{"/v1/nope", "", 401}, // unknown endpoints don't reveal themselves either
		{"/v1/nope", "Bearer " + testToken, 404},
		{"/metrics", "", 401},
		{"/metrics", "Bearer " + testToken, 200},
		{"/ui/", "", 200}, // static assets only; data needs the token
		{"/ui/app.js", "", 200},
		{"/", "", 200}, // redirect to /ui/
	}
	for _, tc := range cases {
		req, _ := http.NewRequest("GET", base+tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s auth=%q: status %d, want %d (%s)", tc.path, tc.auth, resp.StatusCode, tc.want, body)
		}
		if tc.want == 401 && !strings.Contains(string(body), "token") {
			t.Errorf("401 body lacks a hint: %s", body)
		}
	}
	// The CAR and repo maintenance endpoints need the token too.
	for _, ep := range []struct{ method, path string }{
		{"GET", "/v1/car/bafkqaaa"},
		{"POST", "/v1/car"},
		{"POST", "/v1/repo/verify"},
		{"POST", "/v1/repo/gc"},
	} {
		for _, auth := range []string{"", "Bearer wrong"} {
			req, _ := http.NewRequest(ep.method, base+ep.path, strings.NewReader("x"))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 401 || !strings.Contains(string(body), "token") {
				t.Errorf("%s %s auth=%q: status %d, want 401 (%s)", ep.method, ep.path, auth, resp.StatusCode, body)
			}
		}
	}
	// The client maps 401 to ErrUnauthorized.
	bad := client.New(base, "nope", "testrepo")
	if _, err := bad.ID(context.Background()); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	}
	id, err := c.ID(context.Background())
	if err != nil || id.PeerID != "16Uiu2HAmTest" {
		t.Fatalf("ID: %+v %v", id, err)
	}
	// The API counted its requests.
	mfs, _ := reg.Gather()
	found := false
	for _, mf := range mfs {
		found = found || mf.GetName() == "cloudless_node_api_requests_total"
	}
	if !found {
		t.Error("cloudless_node_api_requests_total not registered")
	}
}

func TestAPIPublicMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := newTestAPI(t, Services{}, APIOptions{Gatherer: reg, Registerer: reg, PublicMetrics: true})
	resp, err := http.Get(c.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("public /metrics: %d", resp.StatusCode)
	}
}

func TestAPIUnavailableParts(t *testing.T) {
	c := newTestAPI(t, Services{}, APIOptions{})
	ctx := context.Background()
	for _, path := range []string{"/v1/id", "/v1/peers", "/v1/offers", "/v1/jobs", "/v1/jobs/x", "/v1/wallet", "/v1/get/bafy", "/v1/events"} {
		err := c.Do(ctx, "GET", path, nil, nil)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != 503 || !strings.Contains(ae.Message, "not running") {
			t.Errorf("GET %s: %v, want 503 naming the missing part", path, err)
		}
	}
	ch, err := c.Chain(ctx)
	if err != nil || ch.Enabled || !strings.Contains(ch.Error, "without settlement") {
		t.Errorf("chain without a chain: %+v %v", ch, err)
	}
}

func TestAPIJobs(t *testing.T) {
	jobs := &memJobs{}
	c := newTestAPI(t, Services{Jobs: jobs}, APIOptions{EventPoll: 10 * time.Millisecond})
	ctx := context.Background()
	if js, err := c.Jobs(ctx); err != nil || js == nil || len(js) != 0 {
		t.Fatalf("empty list: %#v %v", js, err)
	}
	// Bad input is 400 with the service's message.
	_, err := c.Run(ctx, map[string]any{"args": []string{"x"}})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(ae.Message, "module is required") {
		t.Fatalf("bad spec: %v", err)
	}
	if err := c.Do(ctx, "POST", "/v1/jobs", strings.NewReader("{not json"), nil); err == nil {
		t.Fatal("malformed JSON accepted")
	}
	if err := c.Do(ctx, "POST", "/v1/jobs", strings.NewReader(strings.Repeat(" ", maxJSONBody+10)+"{}"), nil); err == nil {
		t.Fatal("oversized body accepted")
	}

	// Events: subscribe, then submit; the poller reports the new job and
	// its cancellation.
	ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got := make(chan client.Event, 8)
	go func() {
		_ = c.Events(ectx, func(ev client.Event) error { got <- ev; return nil })
	}()
	// The stream is up once the first poll has seen the (empty) backlog;
	// submit until the event arrives so the test does not sleep.
	var j client.Job
	var ev client.Event
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for ev.Job == nil {
		select {
		case ev = <-got:
		case <-tick.C:
			if j.ID == "" {
				if j, err = c.Run(ctx, map[string]any{"module": "bafkreitest"}); err != nil {
					t.Fatal(err)
				}
			}
		case <-ectx.Done():
			t.Fatal("no job event")
		}
	}
	if ev.Type != "job" || ev.Job.Module != "bafkreitest" {
		t.Fatalf("event %+v", ev)
	}
	if got, err := c.Job(ctx, j.ID); err != nil || got.ID != j.ID {
		t.Fatalf("Job: %+v %v", got, err)
	}
	if _, err := c.Job(ctx, "nope"); !errors.As(err, &ae) || ae.Status != 404 {
		t.Fatalf("unknown job: %v", err)
	}
	if err := c.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ev = <-got:
			if ev.Job.ID == j.ID && ev.Job.State == "cancelled" {
				return
			}
		case <-ectx.Done():
			t.Fatal("no cancel event")
		}
	}
}

func TestListenAPIRefusesRemote(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0", "192.0.2.1:0"} {
		ln, err := ListenAPI(addr, false)
		if err == nil {
			ln.Close()
			t.Errorf("%s: bound without allow-remote", addr)
			continue
		}
		if !errors.Is(err, ErrRemoteAPI) && !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", addr, err)
		}
		if !strings.Contains(err.Error(), "--api-allow-remote") && !errors.Is(err, ErrConfig) {
			t.Errorf("%s: no hint: %v", addr, err)
		}
	}
	ln, err := ListenAPI("0.0.0.0:0", true)
	if err != nil {
		t.Fatalf("allow-remote: %v", err)
	}
	ln.Close()
	ln, err = ListenAPI("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// A busy port is a clear error.
	if _, err := ListenAPI(ln.Addr().String(), false); err == nil || !strings.Contains(err.Error(), "127.0.0.1:0") {
		t.Fatalf("busy port: %v", err)
	}
}

func newTestContent(t *testing.T) contentService {
	t.Helper()
	st, err := storage.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return contentService{st}
}

func tarOf(t *testing.T, entries ...*tar.Header) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range entries {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	tw.Close()
	return &b
}

func apiStatus(t *testing.T, err error) int {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae.Status
}

// TestAPIPinsPublishTarGet covers /v1/pins, POST /v1/publish?format=tar
// and the options of GET /v1/get/{cid} on a real store.
func TestAPIPinsPublishTarGet(t *testing.T) {
	ctx := context.Background()
	cs := newTestContent(t)
	c := newTestAPI(t, Services{Content: cs}, APIOptions{})

	// No token: 401 on every new endpoint.
	for _, mp := range [][2]string{{"GET", "/v1/pins"}, {"POST", "/v1/pins/x"}, {"DELETE", "/v1/pins/x"}, {"POST", "/v1/publish?format=tar"}} {
		req, _ := http.NewRequest(mp[0], c.Addr()+mp[1], nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%s %s without token: %d", mp[0], mp[1], resp.StatusCode)
		}
	}

	data := bytes.Repeat([]byte("cloudless "), 50_000)
	pub, err := c.PublishFile(ctx, bytes.NewReader(data), "f", client.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := cs.st.AddBytes(ctx, data)
	if pub.CID != want.String() || pub.Size != int64(len(data)) {
		t.Fatalf("publish: %+v, want %s", pub, want)
	}
	pins, err := c.Pins(ctx)
	if err != nil || len(pins) != 1 || pins[0] != (client.Pin{CID: pub.CID, Type: "recursive"}) {
		t.Fatalf("pins: %+v %v", pins, err)
	}
	if err := c.Unpin(ctx, pub.CID, false); err != nil {
		t.Fatal(err)
	}
	if pins, _ := c.Pins(ctx); len(pins) != 0 {
		t.Fatalf("pins after unpin: %+v", pins)
	}
	if err := c.Unpin(ctx, pub.CID, false); apiStatus(t, err) != 404 {
		t.Errorf("unpin of an unpinned CID: %v", err)
	}
	if err := c.Pin(ctx, pub.CID, true); err != nil {
		t.Fatal(err)
	}
	if pins, _ := c.Pins(ctx); len(pins) != 1 || pins[0].Type != "direct" {
		t.Fatalf("pins after pin --direct: %+v", pins)
	}
	for _, err := range []error{c.Pin(ctx, "notacid", false), c.Unpin(ctx, "notacid", false)} {
		if apiStatus(t, err) != 400 {
			t.Errorf("bad CID: %v", err)
		}
	}
	if _, _, err := c.GetFile(ctx, "notacid", client.GetOptions{}); apiStatus(t, err) != 400 {
		t.Errorf("get of a bad CID: %v", err)
	}
	if _, err := c.PublishFile(ctx, bytes.NewReader(data), "f", client.PublishOptions{NoPin: true}); err != nil {
		t.Fatal(err)
	}

	// get: size known up front, max_size refused before streaming.
	rc, size, err := c.GetFile(ctx, pub.CID, client.GetOptions{Timeout: 10 * time.Second, MaxSize: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if size != int64(len(data)) || !bytes.Equal(got, data) {
		t.Fatalf("get: size %d, %d bytes", size, len(got))
	}
	if _, _, err := c.GetFile(ctx, pub.CID, client.GetOptions{MaxSize: 10}); apiStatus(t, err) != 413 {
		t.Errorf("get above max_size: %v", err)
	}
	for _, q := range []string{"?timeout=soon", "?max_size=-1"} {
		if err := c.Do(ctx, "GET", "/v1/get/"+pub.CID+q, nil, nil); apiStatus(t, err) != 400 {
			t.Errorf("get%s: %v", q, err)
		}
	}

	// A directory as a tar stream gets the CID AddPath gives the same tree.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "a"), bytes.Repeat([]byte("x"), 3), 0o644)
	os.Symlink("sub/a", filepath.Join(dir, "l"))
	wantDir, err := cs.st.AddPath(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	tb := tarOf(t,
		&tar.Header{Typeflag: tar.TypeDir, Name: "sub/", Mode: 0o755},
		&tar.Header{Typeflag: tar.TypeReg, Name: "sub/a", Size: 3, Mode: 0o644},
		&tar.Header{Typeflag: tar.TypeDir, Name: "empty/", Mode: 0o755},
		&tar.Header{Typeflag: tar.TypeSymlink, Name: "l", Linkname: "sub/a"},
	)
	dpub, err := c.PublishTar(ctx, tb, "tree", client.PublishOptions{})
	if err != nil || dpub.CID != wantDir.String() || dpub.Size != 3 {
		t.Fatalf("publish tar: %+v %v, want %s", dpub, err, wantDir)
	}
	if _, _, err := c.GetFile(ctx, dpub.CID, client.GetOptions{}); apiStatus(t, err) != 400 || !strings.Contains(err.Error(), "directory") {
		t.Errorf("get of a directory: %v", err)
	}
	// Unsafe or unsupported entries are refused with 400.
	for name, tb := range map[string]*bytes.Buffer{
		"dotdot":   tarOf(t, &tar.Header{Typeflag: tar.TypeReg, Name: "../x", Size: 1}),
		"absolute": tarOf(t, &tar.Header{Typeflag: tar.TypeReg, Name: "/tmp/x", Size: 1}),
		"through symlink": tarOf(t, &tar.Header{Typeflag: tar.TypeSymlink, Name: "l", Linkname: "/tmp"},
			&tar.Header{Typeflag: tar.TypeReg, Name: "l/x", Size: 1}),
		"hard link": tarOf(t, &tar.Header{Typeflag: tar.TypeLink, Name: "h", Linkname: "x"}),
		"not a tar": bytes.NewBufferString(strings.Repeat("garbage!", 200)),
	} {
		if _, err := c.PublishTar(ctx, tb, "bad", client.PublishOptions{}); apiStatus(t, err) != 400 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := c.Do(ctx, "POST", "/v1/publish?format=zip", strings.NewReader("x"), nil); apiStatus(t, err) != 400 {
		t.Errorf("format=zip: %v", err)
	}

	// Without storage, the endpoints answer 503.
	none := newTestAPI(t, Services{}, APIOptions{})
	if _, err := none.Pins(ctx); apiStatus(t, err) != 503 {
		t.Errorf("pins without storage: %v", err)
	}
}

// TestAPICARAndRepo: the CAR and repo endpoints round-trip a file, and
// answer 400 for a bad CID or CAR, 404 for unknown content, 413 above
// MaxPublish and 503 without storage.
func TestAPICARAndRepo(t *testing.T) {
	ctx := context.Background()
	c := newTestAPI(t, Services{Content: newTestContent(t)}, APIOptions{MaxPublish: 1 << 20})
	pub, err := c.PublishFile(ctx, strings.NewReader("car me"), "x", client.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var car bytes.Buffer
	if err := c.ExportCAR(ctx, pub.CID, &car); err != nil || car.Len() == 0 {
		t.Fatalf("ExportCAR: %d bytes, %v", car.Len(), err)
	}
	other := newTestAPI(t, Services{Content: newTestContent(t)}, APIOptions{MaxPublish: 1 << 20})
	roots, err := other.ImportCAR(ctx, bytes.NewReader(car.Bytes()))
	if err != nil || len(roots) != 1 || roots[0] != pub.CID {
		t.Fatalf("ImportCAR: %v %v, want [%s]", roots, err, pub.CID)
	}
	rep, err := other.RepoVerify(ctx)
	if err != nil || rep.Checked == 0 || !rep.OK() {
		t.Errorf("RepoVerify: %+v %v", rep, err)
	}
	if n, err := other.RepoGC(ctx); err != nil || n != 0 {
		t.Errorf("RepoGC of pinned content: %d %v", n, err)
	}
	status := func(err error) int {
		var ae *client.APIError
		if errors.As(err, &ae) {
			return ae.Status
		}
		return 0
	}
	if err := c.ExportCAR(ctx, "notacid", io.Discard); status(err) != 400 {
		t.Errorf("ExportCAR of a bad CID: %v", err)
	}
	if err := c.ExportCAR(ctx, "bafkreihbkcol2uotf4zod7z5tznky6qzro6yk35bb62xymn6o5knpzggfy", io.Discard); status(err) != 404 && status(err) != 504 {
		t.Errorf("ExportCAR of unknown content: %v", err)
	}
	if _, err := c.ImportCAR(ctx, strings.NewReader("not a car")); status(err) != 400 {
		t.Errorf("ImportCAR of garbage: %v", err)
	}
	// A real CAR of 2 MiB of distinct chunks, above c's 1 MiB cap.
	big := newTestAPI(t, Services{Content: newTestContent(t)}, APIOptions{})
	data := make([]byte, 2<<20)
	for i := range data {
		data[i] = byte(i) ^ byte(i>>8) ^ byte(i>>18)*31 // distinct 256 KiB chunks
	}
	bp, err := big.PublishFile(ctx, bytes.NewReader(data), "big", client.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var bigCAR bytes.Buffer
	if err := big.ExportCAR(ctx, bp.CID, &bigCAR); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImportCAR(ctx, &bigCAR); status(err) != 413 {
		t.Errorf("ImportCAR above MaxPublish: %v", err)
	}
	none := newTestAPI(t, Services{}, APIOptions{})
	if _, err := none.RepoGC(ctx); status(err) != 503 {
		t.Errorf("RepoGC without storage: %v", err)
	}
	if _, err := none.RepoVerify(ctx); status(err) != 503 {
		t.Errorf("RepoVerify without storage: %v", err)
	}
}
