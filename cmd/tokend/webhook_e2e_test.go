package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashReceiver is a webhook endpoint on loopback that holds every request until released,
// so that the sending node can be killed while its deliveries are in flight; what arrived
// before the kill is never taken (its sender is gone). It checks each signature with its own
// implementation of the Standard Webhooks scheme.
type crashReceiver struct {
	srv      *httptest.Server
	secret   string
	release  chan struct{}
	released sync.Once

	mu      sync.Mutex
	killed  bool           // the first node was killed: requests from now on are the second's
	arrived map[string]int // requests per webhook-id
	taken   map[string]int // answered 2xx to a live sender, per webhook-id
	uids    map[string]bool
	bad     int
}

func newCrashReceiver(t *testing.T) *crashReceiver {
	r := &crashReceiver{release: make(chan struct{}), arrived: map[string]int{}, taken: map[string]int{}, uids: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.open()
		r.srv.Close()
	})
	return r
}

// open lets held and later requests through.
func (r *crashReceiver) open() { r.released.Do(func() { close(r.release) }) }

func (r *crashReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	ok := checkSignature(r.secret, id, req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body)
	if !ok {
		r.bad++
	}
	r.arrived[id]++
	toDeadNode := !r.killed
	r.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	<-r.release
	if toDeadNode {
		return // its sender was killed: the answer reaches no one, nothing was taken
	}
	var p struct {
		Type string `json:"type"`
		Data struct {
			Token struct {
				UID string `json:"uid"`
			} `json:"token"`
		} `json:"data"`
	}
	json.Unmarshal(body, &p)
	r.mu.Lock()
	r.taken[id]++
	if p.Type == "token.created" {
		r.uids[p.Data.Token.UID] = true
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *crashReceiver) counts() (arrived, taken int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.arrived), len(r.taken)
}

// checkSignature is the Standard Webhooks check: HMAC-SHA256 under the base64 key after
// "whsec_" of "id.timestamp.body", equal to one of the "v1,<base64>" signatures.
func checkSignature(secret, id, stamp, header string, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || id == "" || stamp == "" {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + stamp + "."))
	mac.Write(body)
	for _, sig := range strings.Fields(header) {
		if b, ok := strings.CutPrefix(sig, "v1,"); ok {
			if got, err := base64.StdEncoding.DecodeString(b); err == nil && hmac.Equal(got, mac.Sum(nil)) {
				return true
			}
		}
	}
	return false
}

// TestWebhooksSurviveKill: a node killed with SIGKILL while its deliveries are in flight loses
// none of them. After a restart on the same database, the receiver takes every event, each
// under the id it first arrived with, each once, with a valid signature; on both stores.
func TestWebhooksSurviveKill(t *testing.T) {
	t.Parallel()
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			var a initResult
			out := run(t, append([]string{"init", "--account-name", "Hooks", "--plan", "enterprise",
				"--email", "ops@example.com", "--password", "a long enough password", "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &a); err != nil {
				t.Fatal(err)
			}
			flags := []string{"--webhook-allow-private", "--webhook-timeout", "3s"}
			srv := startServerWith(t, st, flags...)
			auth := "Bearer " + a.Token
			recv := newCrashReceiver(t)
			r := call(t, "POST", fmt.Sprintf("%s/api/tokend/v1/accounts/%d/webhooks/", srv.url, a.AccountID), auth,
				fmt.Sprintf(`{"url": %q, "events": ["token.created"]}`, recv.srv.URL+"/hooks"))
			if r.code != http.StatusCreated {
				t.Fatalf("create webhook: got %d %s", r.code, r.Data)
			}
			var hook struct {
				Secret string `json:"secret"`
			}
			json.Unmarshal(r.Data, &hook)
			recv.mu.Lock()
			recv.secret = hook.Secret
			recv.mu.Unlock()

			const n = 5
			var uids []string
			for i := range n {
				r := call(t, "POST", fmt.Sprintf("%s/api/v3/accounts/%d/service-tokens/", srv.url, a.AccountID), auth,
					fmt.Sprintf(`{"name": "ci %d"}`, i))
				if r.code != http.StatusCreated {
					t.Fatalf("create service token: got %d", r.code)
				}
				var tok struct {
					UID string `json:"uid"`
				}
				json.Unmarshal(r.Data, &tok)
				uids = append(uids, tok.UID)
			}
			// Kill the node once deliveries are held at the receiver (all of them, or what
			// arrived within a second of the first).
			deadline := time.Now().Add(20 * time.Second)
			var first time.Time
			for time.Now().Before(deadline) {
				arrived, _ := recv.counts()
				if arrived > 0 && first.IsZero() {
					first = time.Now()
				}
				if arrived == n || (arrived > 0 && time.Since(first) > time.Second) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			recv.mu.Lock()
			var inFlight []string
			for id := range recv.arrived {
				inFlight = append(inFlight, id)
			}
			recv.mu.Unlock()
			if len(inFlight) == 0 {
				t.Fatalf("no delivery reached the receiver in 20s\n%s", srv.logs.String())
			}
			t.Logf("%d of %d deliveries in flight at the kill", len(inFlight), n)
			if err := srv.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-srv.done
			recv.mu.Lock()
			recv.killed = true
			recv.mu.Unlock()
			recv.open()

			// Restarted on the same database, the node sends everything once the dead node's
			// claims have lapsed (twice the timeout and 5 s).
			srv = startServerWith(t, st, flags...)
			for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
				if _, taken := recv.counts(); taken >= n {
					break
				}
			}
			time.Sleep(500 * time.Millisecond) // room for a duplicate to show up, were there one
			srv.stop(t)

			recv.mu.Lock()
			defer recv.mu.Unlock()
			if recv.bad != 0 {
				t.Errorf("got %d requests whose signature did not verify, want 0", recv.bad)
			}
			if len(recv.taken) != n {
				t.Fatalf("took %d distinct messages, want %d (held before the kill: %d)\n%s", len(recv.taken), n, len(inFlight), srv.logs.String())
			}
			for id, k := range recv.taken {
				if k != 1 {
					t.Errorf("message %s taken %d times, want once", id, k)
				}
			}
			for _, id := range inFlight {
				if recv.taken[id] != 1 {
					t.Errorf("message %s, in flight at the kill, was not taken under the same id (arrived %v, taken %v)", id, recv.arrived, recv.taken)
				}
			}
			var got []string
			for uid := range recv.uids {
				got = append(got, uid)
			}
			slices.Sort(got)
			slices.Sort(uids)
			if !slices.Equal(got, uids) {
				t.Errorf("token.created for %v, want %v", got, uids)
			}
		})
	}
}
