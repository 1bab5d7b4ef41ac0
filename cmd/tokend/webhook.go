package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"tokend/client"
)

// The webhook commands manage the account's webhook endpoints: where token events (created,
// revoked, leaked, reused, disabled, expiring, expired, new address) are sent, signed.

func newWebhookCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "webhook",
		Aliases: []string{"webhooks"},
		Short:   "Manage the account's webhook endpoints and read their delivery log",
		Example: `  tokend webhook create https://hooks.example.com/tokend --event token.leaked --event token.reused
  tokend webhook list
  tokend webhook deliveries 3 --state failed`,
	}
	cmd.AddCommand(newWebhookListCmd(), newWebhookCreateCmd(), newWebhookGetCmd(), newWebhookUpdateCmd(),
		newWebhookDeleteCmd(), newWebhookRotateCmd(), newWebhookDeliveriesCmd(), newWebhookRedeliverCmd())
	return cmd
}

// completeEvents offers the webhook event types.
var completeEvents = cobra.FixedCompletions([]cobra.Completion{"token.created", "token.revoked", "token.leaked", "token.reused",
	"token.disabled", "token.expiring", "token.expired", "token.new_ip"}, cobra.ShellCompDirectiveNoFileComp)

func completeWebhookIDs(rf *remoteFlags) completeFunc {
	return completeIDs(rf, func(ctx context.Context, s *session, accountID, _ int64) ([]cobra.Completion, error) {
		ws, _, err := s.client.ListWebhooks(ctx, accountID, client.ListOptions{})
		var out []cobra.Completion
		for _, w := range ws {
			out = append(out, cobra.CompletionWithDesc(strconv.FormatInt(w.ID, 10), w.URL))
		}
		return out, err
	})
}

func newWebhookListCmd() *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the account's webhook endpoints",
		Example: "  tokend webhook list\n  tokend webhook list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			all, err := listAll(client.ListOptions{}, func(o client.ListOptions) ([]client.Webhook, client.Page, error) {
				return s.client.ListWebhooks(ctx, accountID, o)
			})
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, all)
			}
			if len(all) == 0 {
				fmt.Fprintln(out, "No webhooks. Add one with `tokend webhook create URL`.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tURL\tEVENTS\tACTIVE\tDESCRIPTION")
			for _, w := range all {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", w.ID, w.URL, strings.Join(w.Events, ","), yesNo(w.Active), w.Description)
			}
			return tw.Flush()
		},
	}
	rf.register(cmd.Flags())
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// printSecretOnce shows a webhook's signing secret, the one time it is shown.
func printSecretOnce(w io.Writer, secret string) {
	fmt.Fprintf(w, "\nThis is the only time the signing secret is shown; give it to the receiver now:\n\n  %s\n\n", secret)
}

func newWebhookCreateCmd() *cobra.Command {
	var (
		rf                  remoteFlags
		description, secret string
		events              []string
		inactive            bool
	)
	cmd := &cobra.Command{
		Use:   "create --url URL [--event EVENT]...",
		Short: "Add a webhook endpoint; its signing secret is shown only once",
		Long: `create adds an endpoint that receives the account's token events as signed POSTs
(Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). Without --event it
receives every event: token.created, token.revoked, token.leaked, token.reused, token.disabled,
token.expiring, token.expired, token.new_ip. The URL must be https:// and public unless the
server runs with --webhook-allow-private.`,
		Example: `  tokend webhook create https://hooks.example.com/tokend
  tokend webhook create https://hooks.example.com/sec --event token.leaked --event token.reused --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			in := client.WebhookInput{URL: args[0], Description: description, Events: events, Secret: secret}
			if inactive {
				active := false
				in.Active = &active
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			w, err := s.client.CreateWebhook(ctx, accountID, in)
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, w)
			}
			fmt.Fprintf(out, "Created webhook %d for %s (%s).\n", w.ID, w.URL, strings.Join(w.Events, ", "))
			printSecretOnce(out, w.Secret)
			return nil
		},
	}
	f := cmd.Flags()
	rf.register(f)
	f.StringArrayVar(&events, "event", nil, "an event to send (repeatable; default: all)")
	f.StringVar(&description, "description", "", "a note on what the endpoint is")
	f.StringVar(&secret, "secret", "", "the signing secret (whsec_…) instead of a new one (prefer to let tokend make it)")
	f.BoolVar(&inactive, "inactive", false, "create it without sending anything yet")
	_ = cmd.RegisterFlagCompletionFunc("event", completeEvents)
	return cmd
}

func newWebhookGetCmd() *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:               "get ID",
		Short:             "Show a webhook endpoint",
		Example:           "  tokend webhook get 3\n  tokend webhook get 3 --json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeWebhookIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, accountID, _, id, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			w, err := s.client.Webhook(ctx, accountID, id)
			if err != nil {
				return fmt.Errorf("webhook %d: %w", id, s.explain(err))
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, w)
			}
			printWebhook(out, w)
			return nil
		},
	}
	rf.register(cmd.Flags())
	return cmd
}

func printWebhook(out io.Writer, w *client.Webhook) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\t%d\n", w.ID)
	fmt.Fprintf(tw, "URL\t%s\n", w.URL)
	fmt.Fprintf(tw, "Events\t%s\n", strings.Join(w.Events, ", "))
	fmt.Fprintf(tw, "Active\t%s\n", yesNo(w.Active))
	if w.Description != "" {
		fmt.Fprintf(tw, "Description\t%s\n", w.Description)
	}
	if !w.PreviousSecretExpiresAt.IsZero() {
		fmt.Fprintf(tw, "Old secret signs until\t%s\n", when(w.PreviousSecretExpiresAt, ""))
	}
	fmt.Fprintf(tw, "Created\t%s\n", when(w.CreatedAt, "-"))
	tw.Flush()
}

func newWebhookUpdateCmd() *cobra.Command {
	var (
		rf                   remoteFlags
		url, description     string
		events               []string
		activate, deactivate bool
	)
	cmd := &cobra.Command{
		Use:               "update ID [--endpoint URL] [--event EVENT]... [--description TEXT] [--activate|--deactivate]",
		Short:             "Change a webhook endpoint's URL, events, description or whether it is active",
		Example:           "  tokend webhook update 3 --event token.leaked --event token.reused\n  tokend webhook update 3 --deactivate --json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeWebhookIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			if activate && deactivate {
				return usageErrorf("--activate and --deactivate contradict each other")
			}
			var u client.WebhookUpdate
			f := cmd.Flags()
			if f.Changed("endpoint") {
				u.URL = &url
			}
			if f.Changed("description") {
				u.Description = &description
			}
			if f.Changed("event") {
				u.Events = events
			}
			if activate || deactivate {
				u.Active = &activate
			}
			if u.URL == nil && u.Description == nil && u.Events == nil && u.Active == nil {
				return usageErrorf("nothing to change: give --endpoint, --event, --description, --activate or --deactivate")
			}
			ctx := cmd.Context()
			s, accountID, _, id, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			w, err := s.client.UpdateWebhook(ctx, accountID, id, u)
			if err != nil {
				return fmt.Errorf("webhook %d: %w", id, s.explain(err))
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, w)
			}
			printWebhook(out, w)
			return nil
		},
	}
	f := cmd.Flags()
	rf.register(f)
	f.StringVar(&url, "endpoint", "", "a new URL for the endpoint")
	f.StringArrayVar(&events, "event", nil, "the events to send, replacing the current ones (repeatable)")
	f.StringVar(&description, "description", "", "a new description")
	f.BoolVar(&activate, "activate", false, "send events again")
	f.BoolVar(&deactivate, "deactivate", false, "stop sending new events (queued ones still go)")
	_ = cmd.RegisterFlagCompletionFunc("event", completeEvents)
	return cmd
}

func newWebhookDeleteCmd() *cobra.Command {
	var (
		rf  remoteFlags
		yes bool
	)
	cmd := &cobra.Command{
		Use:               "delete ID",
		Short:             "Delete a webhook endpoint with its queued messages and delivery log",
		Long:              "delete removes a webhook endpoint, what is queued for it, its delivery log and its secret. It asks first, unless --yes.",
		Example:           "  tokend webhook delete 3\n  tokend webhook delete 3 --yes --json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeWebhookIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, accountID, _, id, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			// Look first: the server answers, the endpoint is there, and the question can name it.
			w, err := s.client.Webhook(ctx, accountID, id)
			if err != nil {
				return fmt.Errorf("webhook %d: %w", id, s.explain(err))
			}
			if !yes {
				if err := confirm(cmd, fmt.Sprintf("Delete webhook %d (%s) and its delivery log?", w.ID, w.URL)); err != nil {
					return err
				}
			}
			if err := s.client.DeleteWebhook(ctx, accountID, id); err != nil {
				return s.explain(err)
			}
			if rf.asJSON {
				return writeJSONOut(cmd.OutOrStdout(), map[string]any{"id": id, "deleted": true})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted webhook %d.\n", id)
			return nil
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

func newWebhookRotateCmd() *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Give a webhook endpoint a new signing secret; the old one signs beside it for a day",
		Long: `rotate-secret makes a new signing secret, shown only once. For 24 hours every message
carries two signatures, one per secret, so that the receiver can switch to the new secret
without rejecting anything; then the old one stops.`,
		Example:           "  tokend webhook rotate-secret 3\n  tokend webhook rotate-secret 3 --json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeWebhookIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, accountID, _, id, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			w, err := s.client.RotateWebhookSecret(ctx, accountID, id)
			if err != nil {
				return fmt.Errorf("webhook %d: %w", id, s.explain(err))
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, w)
			}
			fmt.Fprintf(out, "Rotated webhook %d's secret; the old one signs too until %s.\n", w.ID, when(w.PreviousSecretExpiresAt, ""))
			printSecretOnce(out, w.Secret)
			return nil
		},
	}
	rf.register(cmd.Flags())
	return cmd
}

func newWebhookDeliveriesCmd() *cobra.Command {
	var (
		rf    remoteFlags
		state string
		limit int
	)
	cmd := &cobra.Command{
		Use:   "deliveries ID [DELIVERY_ID]",
		Short: "Show a webhook endpoint's delivery log, or one delivery with its attempts",
		Example: `  tokend webhook deliveries 3
  tokend webhook deliveries 3 --state failed --json
  tokend webhook deliveries 3 41`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeWebhookIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch state {
			case "", "pending", "delivered", "failed":
			default:
				return usageErrorf("--state must be pending, delivered or failed, got %q", state)
			}
			var did int64
			if len(args) == 2 {
				var err error
				if did, err = parseID(args[1], "tokend webhook deliveries ID"); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			s, accountID, _, id, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if did != 0 {
				d, err := s.client.Delivery(ctx, accountID, id, did)
				if err != nil {
					return fmt.Errorf("delivery %d of webhook %d: %w", did, id, s.explain(err))
				}
				if rf.asJSON {
					return writeJSONOut(out, d)
				}
				fmt.Fprintf(out, "Delivery %d: %s %s, %s after %d attempts\n", d.ID, d.MessageID, d.Event, d.State, d.Attempts)
				if d.State == "pending" {
					fmt.Fprintf(out, "Next attempt %s; retried until %s\n", when(d.NextAttemptAt, "-"), when(d.RetryUntil, "-"))
				}
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ATTEMPT\tAT\tSTATUS\tMS\tERROR")
				for _, a := range d.AttemptLog {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%.1f\t%s\n", a.Attempt, when(a.At, "-"), status(a.StatusCode), a.DurationMS, a.Error)
				}
				return tw.Flush()
			}
			ds, _, err := s.client.ListDeliveries(ctx, accountID, id, client.DeliveryOptions{State: state, Limit: limit})
			if err != nil {
				return fmt.Errorf("webhook %d: %w", id, s.explain(err))
			}
			if rf.asJSON {
				if ds == nil {
					ds = []client.Delivery{}
				}
				return writeJSONOut(out, ds)
			}
			if len(ds) == 0 {
				fmt.Fprintln(out, "No deliveries.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMESSAGE\tEVENT\tSTATE\tATTEMPTS\tLAST STATUS\tLAST ERROR\tCREATED")
			for _, d := range ds {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.MessageID, d.Event, d.State, d.Attempts,
					status(d.LastStatusCode), d.LastError, when(d.CreatedAt, "-"))
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	rf.register(f)
	f.StringVar(&state, "state", "", "only deliveries in this state: pending, delivered or failed")
	f.IntVar(&limit, "limit", 50, "how many of the newest deliveries to show (at most 100)")
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions([]cobra.Completion{"pending", "delivered", "failed"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func status(code *int) string {
	if code == nil {
		return "-"
	}
	return strconv.Itoa(*code)
}

func newWebhookRedeliverCmd() *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:   "redeliver ID DELIVERY_ID",
		Short: "Send a delivery again now, under the same message id",
		Long: `redeliver queues a delivery again at once, with a new day of retries. It keeps its message
id (the webhook-id header), so a receiver that took it already can tell.`,
		Example: "  tokend webhook redeliver 3 41\n  tokend webhook redeliver 3 41 --json",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			did, err := parseID(args[1], "tokend webhook deliveries ID")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, accountID, _, id, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			d, err := s.client.Redeliver(ctx, accountID, id, did)
			if err != nil {
				return fmt.Errorf("delivery %d of webhook %d: %w", did, id, s.explain(err))
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, d)
			}
			fmt.Fprintf(out, "Queued delivery %d (%s, %s) again.\n", d.ID, d.MessageID, d.Event)
			return nil
		},
	}
	rf.register(cmd.Flags())
	return cmd
}
