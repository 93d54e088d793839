package node

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/cloudless-network/cloudless/node/client"
)

// TestAPIPinsUnknownCodec: a well-formed CID whose codec the store cannot
// decode is the caller's mistake, so POST /v1/pins/{cid} answers 400 with
// a one-line error naming the codec, not 500; DELETE says it is not
// pinned (404).
func TestAPIPinsUnknownCodec(t *testing.T) {
	cs := newTestContent(t)
	c := newTestAPI(t, Services{Content: cs}, APIOptions{})
	// The block is in the store (published as raw), so without the check
	// the store finds it under the other codec's CID and fails to decode
	// it: the 500 this test was written for.
	pub, err := c.Publish(context.Background(), strings.NewReader("hello"), "hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cid.Decode(pub.CID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		codec uint64
		want  string
	}{
		{"unregistered", 0x300001, "codec 0x300001"},
		{"git-raw", cid.GitRaw, "codec 0x78 (git-raw)"},
		{"eth-block", cid.EthBlock, "codec 0x90 (eth-block)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := cid.NewCidV1(tc.codec, raw.Hash()).String()
			for method, want := range map[string]int{http.MethodPost: http.StatusBadRequest, http.MethodDelete: http.StatusNotFound} {
				code, msg := pinRequest(t, c, method, id)
				if code != want {
					t.Errorf("%s %s: status %d (%s), want %d", method, id, code, msg, want)
				}
				if strings.ContainsAny(msg, "\r\n") {
					t.Errorf("%s: error is not one line: %q", method, msg)
				}
				if method == http.MethodPost && !strings.Contains(msg, tc.want) {
					t.Errorf("%s: error %q does not name the codec (%q)", method, msg, tc.want)
				}
			}
		})
	}
	// Not a CID at all: 400 too, on both.
	for _, method := range []string{http.MethodPost, http.MethodDelete} {
		if code, msg := pinRequest(t, c, method, "not-a-cid"); code != http.StatusBadRequest {
			t.Errorf("%s not-a-cid: %d %s", method, code, msg)
		}
	}
	// The raw CID itself still pins and unpins.
	if code, msg := pinRequest(t, c, http.MethodPost, pub.CID); code != http.StatusOK {
		t.Fatalf("pin %s: %d %s", pub.CID, code, msg)
	}
	if code, msg := pinRequest(t, c, http.MethodDelete, pub.CID); code != http.StatusOK {
		t.Fatalf("unpin %s: %d %s", pub.CID, code, msg)
	}
}

// TestPinnable: the codecs the store decodes pass the check.
func TestPinnable(t *testing.T) {
	sum := cid.NewCidV1(cid.Raw, []byte{0x12, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}).Hash()
	for _, code := range []uint64{cid.DagProtobuf, cid.Raw, cid.DagCBOR, cid.DagJSON} {
		if err := pinnable(cid.NewCidV1(code, sum).String()); err != nil {
			t.Errorf("codec 0x%x: %v", code, err)
		}
	}
	if err := pinnable(cid.NewCidV0(sum).String()); err != nil {
		t.Errorf("CIDv0: %v", err)
	}
}

func pinRequest(t *testing.T, c *client.Client, method, id string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, c.Addr()+"/v1/pins/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e client.ErrorBody
	if json.Unmarshal(body, &e) != nil {
		return resp.StatusCode, string(body)
	}
	return resp.StatusCode, e.Error
}
