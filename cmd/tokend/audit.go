package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tokend/client"
)

// The audit commands read the account's audit log (they need the audit log permission): a
// filtered list, and an export of everything the filters select, streamed to a file.

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "The account's audit log: list with filters, or export as CSV or JSON",
		Example: `  tokend audit list --event-type token.rotate --from 2025-01-01
  tokend audit list --token-uid aB3dE5gH7j --json
  tokend audit export --format csv --from 2025-01-01 --to 2025-03-31 -o q1.csv`,
	}
	cmd.AddCommand(newAuditListCmd(), newAuditExportCmd())
	return cmd
}

// auditFilterFlags are the filters both audit commands take.
type auditFilterFlags struct {
	eventType, token, from, to string
	actor                      int64
}

func (f *auditFilterFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.eventType, "event-type", "", "only this event type, e.g. token.rotate")
	fs.Int64Var(&f.actor, "actor", 0, "only what this user (an id, see `tokend token list`) did")
	fs.StringVar(&f.token, "token-uid", "", "only what this token (its uid) did and what was done to it")
	fs.StringVar(&f.from, "from", "", "from this date (2025-01-31, inclusive) or time (RFC 3339)")
	fs.StringVar(&f.to, "to", "", "to this date (inclusive) or time (exclusive)")
}

// options turns the flags into the client's filter; a bad date is a usage error.
func (f *auditFilterFlags) options() (client.AuditOptions, error) {
	o := client.AuditOptions{EventType: f.eventType, ActorUserID: f.actor, TokenUID: f.token}
	if f.actor < 0 {
		return o, usageErrorf("--actor must be a user id, got %d", f.actor)
	}
	var err error
	if o.Since, err = auditTime("--from", f.from, false); err != nil {
		return o, err
	}
	if o.Until, err = auditTime("--to", f.to, true); err != nil {
		return o, err
	}
	return o, nil
}

// auditTime reads a date (midnight UTC; for the end of a range, the next midnight, so that the
// day is included) or an RFC 3339 time.
func auditTime(flag, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, usageErrorf("%s must be a date (2025-01-31) or an RFC 3339 time, got %q", flag, v)
	}
	return t, nil
}

func newAuditListCmd() *cobra.Command {
	var (
		rf    remoteFlags
		af    auditFilterFlags
		limit int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the account's audit events, newest first, with filters",
		Long: `list prints the newest events first: --limit of them (100 by default, at most 1000, read
page by page). Filters combine: --event-type, --actor (a user id), --token-uid (a token's uid: what
it did and what was done to it), --from and --to (dates, both inclusive, or RFC 3339 times).
For more, or for a spreadsheet, use ` + "`tokend audit export`" + `.`,
		Example: `  tokend audit list
  tokend audit list --event-type token.refused --from 2025-06-01
  tokend audit list --actor 42 --limit 20 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			o, err := af.options()
			if err != nil {
				return err
			}
			if limit < 1 || limit > 1000 {
				return usageErrorf("--limit must be from 1 to 1000, got %d", limit)
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			all, err := listUpTo(client.ListOptions{Limit: min(limit, 100), Offset: o.Offset}, limit,
				func(lo client.ListOptions) ([]client.AuditEvent, client.Page, error) {
					o.Limit, o.Offset = lo.Limit, lo.Offset
					return s.client.AuditLog(ctx, accountID, o)
				})
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, all)
			}
			if len(all) == 0 {
				fmt.Fprintln(out, "No events match.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tEVENT\tACTOR\tTARGET\tFROM")
			for _, e := range all {
				actor := "-"
				switch {
				case e.Actor.UserID != nil:
					actor = fmt.Sprintf("user %d", *e.Actor.UserID)
				case e.Actor.TokenUID != "":
					actor = "token " + e.Actor.TokenUID
				}
				target := e.EventContext.TargetType
				if e.EventContext.TargetID != nil {
					target += fmt.Sprintf(" %d", *e.EventContext.TargetID)
				}
				at := time.Time{}
				if e.CreatedAt != nil {
					at = *e.CreatedAt
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", when(at, "-"), e.EventType, actor, orDash(target), orDash(e.EventContext.IP))
			}
			return tw.Flush()
		},
	}
	rf.register(cmd.Flags())
	af.register(cmd)
	cmd.Flags().IntVar(&limit, "limit", 100, "how many events, newest first (at most 1000)")
	return cmd
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func newAuditExportCmd() *cobra.Command {
	var (
		rf             remoteFlags
		af             auditFilterFlags
		format, output string
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export the audit events the filters select, as CSV or JSON",
		Long: `export writes every event the filters select, newest first, as CSV (with a header row) or
as one JSON array, to --output (a new file) or standard output, as the server streams it. The
server exports at most 100,000 events at once and says so before sending anything: narrow the
dates or the filters. CSV cells that a spreadsheet would take for a formula (= + - @) start with
an apostrophe.`,
		Example: `  tokend audit export --format csv -o audit.csv
  tokend audit export --format json --from 2025-01-01 --to 2025-01-31 | jq length
  tokend audit export --format csv --token-uid aB3dE5gH7j -o token-history.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if format != "csv" && format != "json" {
				return usageErrorf("--format must be csv or json, got %q", format)
			}
			o, err := af.options()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			if output != "" && output != "-" {
				// A new file: an export never overwrites one, and the log is the account's.
				f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			n, err := s.client.ExportAudit(ctx, accountID, o, format, w)
			if err != nil {
				if output != "" && output != "-" {
					os.Remove(output)
				}
				return s.explain(err)
			}
			if output != "" && output != "-" {
				fmt.Fprintf(cmd.ErrOrStderr(), "Wrote %d bytes to %s.\n", n, output)
			}
			return nil
		},
	}
	rf.register(cmd.Flags())
	af.register(cmd)
	cmd.Flags().StringVar(&format, "format", "", "csv or json (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this new file (default: standard output)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]cobra.Completion{"csv", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
