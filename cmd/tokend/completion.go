package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"tokend/client"
)

// Shell completion of ids: each asks the server with the CLI's token, briefly, and completes
// nothing (rather than fail or prompt) when it cannot.

const completionTimeout = 3 * time.Second

type completeFunc func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective)

// completeIDs completes the first argument from list, which returns "id<TAB>description" pairs.
func completeIDs(rf *remoteFlags, list func(ctx context.Context, s *session, accountID, userID int64) ([]cobra.Completion, error)) completeFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if err := bindEnv(cmd); err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		s, accountID, userID, err := rf.target(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		out, err := list(ctx, s, accountID, userID)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func completePATIDs(rf *remoteFlags) completeFunc {
	return completeIDs(rf, func(ctx context.Context, s *session, accountID, userID int64) ([]cobra.Completion, error) {
		ps, _, err := s.client.ListPATs(ctx, accountID, userID, client.ListOptions{State: client.StateActive})
		var out []cobra.Completion
		for _, p := range ps {
			out = append(out, cobra.CompletionWithDesc(strconv.FormatInt(p.ID, 10), p.Name))
		}
		return out, err
	})
}

func completeServiceTokenIDs(rf *remoteFlags) completeFunc {
	return completeIDs(rf, func(ctx context.Context, s *session, accountID, _ int64) ([]cobra.Completion, error) {
		ts, _, err := s.client.ListServiceTokens(ctx, accountID, client.ListOptions{State: client.StateActive})
		var out []cobra.Completion
		for _, t := range ts {
			out = append(out, cobra.CompletionWithDesc(strconv.FormatInt(t.ID, 10), t.Name))
		}
		return out, err
	})
}

func completeUserIDs(rf *remoteFlags) completeFunc {
	return completeIDs(rf, func(ctx context.Context, s *session, accountID, _ int64) ([]cobra.Completion, error) {
		us, err := s.client.ListUsers(ctx, accountID, client.ListOptions{State: client.StateActive})
		var out []cobra.Completion
		for _, u := range us {
			out = append(out, cobra.CompletionWithDesc(strconv.FormatInt(u.ID, 10), u.Email))
		}
		return out, err
	})
}

// completeTokenIDs completes any number of token ids of the account (PATs and service
// tokens), for bulk revoke.
func completeTokenIDs(rf *remoteFlags) completeFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if err := bindEnv(cmd); err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		s, accountID, _, err := rf.target(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		given := map[string]bool{}
		for _, a := range args {
			given[a] = true
		}
		var out []cobra.Completion
		for _, kind := range []string{"pat", "service"} {
			ts, _, err := s.client.Inventory(ctx, accountID, client.InventoryOptions{Kind: kind, ListOptions: client.ListOptions{State: client.StateActive}})
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			for _, t := range ts {
				if id := strconv.FormatInt(t.ID, 10); !given[id] {
					out = append(out, cobra.CompletionWithDesc(id, fmt.Sprintf("%s %s", kind, t.Name)))
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
