package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tokend/client"
)

// The policy commands read and set the account's token policies through the API: what holds
// for every token at use (maximum PAT lifetime, inactivity) and what a rotation does. Setting
// them needs account settings write, as in the console.

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "The account's token policies: maximum PAT lifetime, inactivity, rotation (administrators)",
		Example: `  tokend account policy get
  tokend account policy set --pat-max-lifetime 90d --inactivity-days 90
  tokend account policy set --reuse-revokes-chain --overlap-from-first-use=false`,
	}
	cmd.AddCommand(newPolicyGetCmd(), newPolicySetCmd())
	return cmd
}

func newPolicyGetCmd() *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Show the account's token policies",
		Example: `  tokend account policy get
  tokend account policy get --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			a, err := s.client.Account(ctx, accountID)
			if err != nil {
				return s.explain(err)
			}
			return printPolicies(cmd.OutOrStdout(), a, rf.asJSON)
		},
	}
	rf.register(cmd.Flags())
	return cmd
}

func newPolicySetCmd() *cobra.Command {
	var (
		rf             remoteFlags
		lifetime       durationValue
		inactivity     int
		reuse, fromUse bool
	)
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Change the account's token policies; flags not given are left as they are",
		Long: `set changes the policies named by its flags and leaves the others alone.
--pat-max-lifetime caps personal access tokens from their creation (0: no cap; at least 1h),
for existing ones too: tokens past it stop working until the cap is loosened.
--inactivity-days disables tokens unused for that many days (0: off; else 30 to 365).
--reuse-revokes-chain: a rotated-out token used after its overlap revokes its whole chain.
--overlap-from-first-use: a rotation's overlap starts at the new token's first use (at most
7 days of waiting).`,
		Example: `  tokend account policy set --pat-max-lifetime 90d
  tokend account policy set --inactivity-days 0 --reuse-revokes-chain=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			var (
				u               client.PolicyUpdate
				changedAnything bool
			)
			f := cmd.Flags()
			if f.Changed("pat-max-lifetime") {
				secs := int64(time.Duration(lifetime) / time.Second)
				u.PATMaxLifetimeSeconds, changedAnything = &secs, true
			}
			if f.Changed("inactivity-days") {
				u.InactivityDays, changedAnything = &inactivity, true
			}
			if f.Changed("reuse-revokes-chain") {
				u.ReuseRevokesChain, changedAnything = &reuse, true
			}
			if f.Changed("overlap-from-first-use") {
				u.OverlapFromFirstUse, changedAnything = &fromUse, true
			}
			if !changedAnything {
				return usageErrorf("give at least one policy to set: --pat-max-lifetime, --inactivity-days, --reuse-revokes-chain or --overlap-from-first-use")
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			a, err := s.client.UpdatePolicies(ctx, accountID, u)
			if err != nil {
				return s.explain(err)
			}
			return printPolicies(cmd.OutOrStdout(), a, rf.asJSON)
		},
	}
	rf.register(cmd.Flags())
	f := cmd.Flags()
	f.Var(&lifetime, "pat-max-lifetime", "longest life of a personal access token, e.g. 90d (0: no cap)")
	f.IntVar(&inactivity, "inactivity-days", 0, "disable tokens unused for this many days: 0 (off) or 30 to 365")
	f.BoolVar(&reuse, "reuse-revokes-chain", false, "a reuse after rotation revokes the whole rotation chain")
	f.BoolVar(&fromUse, "overlap-from-first-use", false, "a rotation's overlap starts at the new token's first use")
	return cmd
}

// policiesJSON is what --json prints: the policies, in the API's names.
type policiesJSON struct {
	AccountID             int64 `json:"account_id"`
	PATMaxLifetimeSeconds int64 `json:"pat_max_lifetime_seconds"`
	InactivityDays        int   `json:"inactivity_days"`
	ReuseRevokesChain     bool  `json:"reuse_revokes_chain"`
	OverlapFromFirstUse   bool  `json:"overlap_from_first_use"`
}

func printPolicies(out io.Writer, a *client.Account, asJSON bool) error {
	var set client.AccountSettings
	if a.Settings != nil {
		set = *a.Settings
	}
	if asJSON {
		return writeJSONOut(out, policiesJSON{AccountID: a.ID, PATMaxLifetimeSeconds: set.PATMaxLifetimeSeconds,
			InactivityDays: set.InactivityDays, ReuseRevokesChain: set.ReuseRevokesChain, OverlapFromFirstUse: set.OverlapFromFirstUse})
	}
	lifetime, inactivity := "no cap", "off"
	if set.PATMaxLifetimeSeconds > 0 {
		lifetime = formatDuration(time.Duration(set.PATMaxLifetimeSeconds) * time.Second)
	}
	if set.InactivityDays > 0 {
		inactivity = fmt.Sprintf("disable after %d days unused", set.InactivityDays)
	}
	onOff := map[bool]string{true: "on", false: "off"}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Account\t%d %s\n", a.ID, a.Name)
	fmt.Fprintf(tw, "Maximum PAT lifetime\t%s\n", lifetime)
	fmt.Fprintf(tw, "Inactivity\t%s\n", inactivity)
	fmt.Fprintf(tw, "Reuse revokes the rotation chain\t%s\n", onOff[set.ReuseRevokesChain])
	fmt.Fprintf(tw, "Overlap starts at first use\t%s\n", onOff[set.OverlapFromFirstUse])
	return tw.Flush()
}
