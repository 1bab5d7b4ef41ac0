package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestAuditLogInBrowser filters the audit log with its form on a phone and a laptop (the
// filters stay in the address, so Reload and Back keep them) and downloads the CSV export the
// way a person does, by clicking its link.
func TestAuditLogInBrowser(t *testing.T) {
	needChromium(t)
	st := storage{"sqlite", []string{"--data-dir", t.TempDir()}}
	var a initResult
	mustJSON(t, run(t, append([]string{"init", "--account-name", "Sietch Tabr", "--email", "stilgar@example.com",
		"--password", browserPassword, "--json"}, st.flags...)...), &a)
	srv := startServer(t, st)
	for _, name := range []string{"Water", "Spice", "Stillsuits"} {
		createID(t, fmt.Sprintf("%s/api/v3/accounts/%d/projects/", srv.url, a.AccountID), "Token "+a.Token, `{"name": "`+name+`"}`)
	}

	b := newTab(t, srv.url)
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) { b.t = t; f(t) }) {
			t.FailNow()
		}
	}
	step("sign in", func(t *testing.T) {
		b.open("/signin")
		b.do(chromedp.SendKeys(chromedp.ID("email"), "stilgar@example.com"),
			chromedp.SendKeys(chromedp.ID("password"), browserPassword))
		b.submit(`form[action="/signin"] button[type="submit"]`)
	})
	// rows are the actions of the table's rows.
	rows := func() []string {
		ctx, cancel := b.step()
		defer cancel()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`JSON.stringify(Array.from(document.querySelectorAll("main tbody tr .action")).map(e => e.textContent.trim()))`))
		if err != nil {
			b.t.Fatalf("read the table: %v", err)
		}
		var got []string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			b.t.Fatal(err)
		}
		return got
	}
	for _, w := range widths {
		step(fmt.Sprintf("filter at %d px", w), func(t *testing.T) {
			b.open("/settings/audit-log")
			b.do(chromedp.EmulateViewport(w, 860))
			b.do(chromedp.SendKeys(chromedp.CSS(`input[name="event_type"]`), "project.create"),
				chromedp.SetValue(chromedp.CSS(`input[name="from"]`), "2000-01-01"))
			b.submit(`form.audit-filters button[type="submit"]`)
			if got := b.path(); !strings.Contains(got, "event_type=project.create") || !strings.Contains(got, "from=2000-01-01") {
				t.Errorf("after Apply: at %s, want the filters in the address", got)
			}
			got := rows()
			if len(got) != 3 {
				t.Errorf("got %d rows, want the 3 projects created:\n%s", len(got), strings.Join(got, "\n"))
			}
			for _, r := range got {
				if r != "project.create" {
					t.Errorf("row %q: want only project.create", r)
				}
			}
			b.fits()
			b.do(chromedp.Reload())
			if v := b.value(`input[name="event_type"]`); v != "project.create" {
				t.Errorf("after Reload: the event type reads %q, want project.create", v)
			}
			if w == 390 {
				b.shotAt("51-phone-audit-log-filtered", 390)
			} else {
				b.shotAt("50-audit-log-filtered", 1280)
			}
			b.do(chromedp.EmulateViewport(1280, 860))
		})
	}
	step("a bad range says so", func(t *testing.T) {
		status := b.openStatus("/settings/audit-log?from=2030-01-02&to=2030-01-01")
		if got := b.text(".alert-error"); status != 400 || !strings.Contains(got, "must not be before the start date") {
			t.Errorf("got %d saying %q, want 400 saying the end is before the start", status, got)
		}
		b.fits()
	})
	step("download the CSV at 390 px", func(t *testing.T) {
		dir := t.TempDir()
		b.open("/settings/audit-log?event_type=project.create")
		b.do(chromedp.EmulateViewport(390, 860))
		ctx, cancel := b.step()
		defer cancel()
		begin := chromedp.Events(ctx, browser.DownloadWillBegin)
		progress := chromedp.Events(ctx, browser.DownloadProgress)
		b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTo(true)})
			return err
		}), chromedp.Click(chromedp.CSS(`.audit-export a[href*="format=csv"]`), chromedp.NodeVisible))
		var name, guid string
		for ev, err := range begin {
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			name, guid = ev.SuggestedFilename, ev.GUID
			break
		}
		if !strings.HasPrefix(name, "audit-log-sietch-tabr-") || !strings.HasSuffix(name, ".csv") {
			t.Errorf("the download is named %q, want audit-log-sietch-tabr-<date>.csv", name)
		}
		for ev, err := range progress {
			if err != nil {
				t.Fatalf("download: %v", err)
			}
			if ev.GUID == guid && ev.State == browser.DownloadProgressStateCompleted {
				break
			}
			if ev.State == browser.DownloadProgressStateCanceled {
				t.Fatalf("the download was cancelled")
			}
		}
		f, err := os.Open(filepath.Join(dir, guid))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil || len(recs) != 4 || recs[0][2] != "event_type" || recs[1][2] != "project.create" {
			t.Errorf("the CSV holds %v (%v), want a header and the 3 projects created", recs, err)
		}
		b.do(chromedp.EmulateViewport(1280, 860))
	})
}

func ptrTo[T any](v T) *T { return &v }
