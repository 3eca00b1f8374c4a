package slots

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	b := New(3)
	release, _ := b.Acquire()
	defer release()
	srv := httptest.NewServer(Handler(b, nil))
	defer srv.Close()
	do := func(method, body string) (int, Snapshot) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/slots", strings.NewReader(body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s Snapshot
		_ = json.NewDecoder(resp.Body).Decode(&s)
		return resp.StatusCode, s
	}
	if code, s := do(http.MethodGet, ""); code != http.StatusOK || s.Max != 3 || s.Available != 2 || s.InUse != 1 || s.Seq != 1 {
		t.Fatalf("GET: %d %+v", code, s)
	}
	for _, tc := range []struct {
		name, method, body string
		want               int
	}{
		{"negative", http.MethodPut, `{"max": -1}`, http.StatusBadRequest},
		{"missing", http.MethodPut, `{}`, http.StatusBadRequest},
		{"not JSON", http.MethodPut, `max=4`, http.StatusBadRequest},
		{"unknown field", http.MethodPut, `{"max": 4, "min": 1}`, http.StatusBadRequest},
		{"method", http.MethodPost, `{"max": 4}`, http.StatusMethodNotAllowed},
	} {
		if code, _ := do(tc.method, tc.body); code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, code, tc.want)
		}
	}
	if b.Max() != 3 {
		t.Fatalf("a refused request changed the budget to %d", b.Max())
	}
	if code, s := do(http.MethodPut, `{"max": 5}`); code != http.StatusOK || s.Max != 5 || s.Available != 4 || s.Seq != 2 {
		t.Fatalf("PUT: %d %+v", code, s)
	}
}

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
	}{{"20", 20}, {"0", 0}, {"", 7}, {"-3", 7}, {"many", 7}} {
		t.Setenv("STITCH_SLOTS", tc.env)
		if got := FromEnv(7); got != tc.want {
			t.Errorf("STITCH_SLOTS=%q: %d, want %d", tc.env, got, tc.want)
		}
	}
}
