package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"tokend"
	"tokend/perm"
)

func newInitCmd() *cobra.Command {
	return accountCreateCmd("init", "Create an account, its owner and an owner personal access token")
}

// newAccountCmd groups the operator's account commands.
func newAccountCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Create accounts (in the database) and set their token policies (through the API)",
		Example: `  tokend account create --account-name Globex --email ops@globex.example --data-dir /var/lib/tokend
  tokend account policy set --inactivity-days 90 --reuse-revokes-chain`}
	cmd.AddCommand(accountCreateCmd("create", "Create an account, its owner and an owner personal access token"), newPolicyCmd())
	return cmd
}

// accountCreateCmd is init and "account create": the same operation under two names, the first
// for a new installation, the second for an operator adding tenants.
func accountCreateCmd(use, short string) *cobra.Command {
	var (
		sf                           storageFlags
		accountName, plan, email, pw string
		firstName, lastName          string
		asJSON                       bool
	)
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: `init creates an account with its default groups, its owner (a Developer license and
account_admin on all projects) and a personal access token for the owner, printed once.
On a database that already has accounts it adds one more; an existing e-mail reuses the user,
so one person can belong to several accounts. --password on an existing e-mail sets that user's
password to it (and signs out their console sessions); without it their password is kept.`,
		Example: `  tokend init --account-name Acme --email owner@acme.example --data-dir /var/lib/tokend
  tokend account create --account-name Globex --plan team --email ops@globex.example --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			p, err := perm.ParsePlan(plan)
			if err != nil {
				return err
			}
			st, _, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			svc := tokend.NewService(st, tokend.Options{})
			res, err := svc.Init(cmd.Context(), tokend.InitParams{
				AccountName: accountName, Plan: p, Email: email, Password: pw,
				FirstName: firstName, LastName: lastName,
			})
			if err != nil {
				return operatorError(err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(initJSON(res))
			}
			printInit(out, "", res)
			return nil
		},
	}
	sf.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&accountName, "account-name", "", "name of the new account (required)")
	f.StringVar(&plan, "plan", "enterprise", "plan: developer, starter, team, enterprise, enterprise_plus")
	f.StringVar(&email, "email", "", "owner's e-mail (required)")
	f.StringVar(&pw, "password", "", "owner's password; sets an existing user's too (default: generated for a new user, kept for an existing one)")
	f.StringVar(&firstName, "first-name", "", "owner's first name")
	f.StringVar(&lastName, "last-name", "", "owner's last name")
	f.BoolVar(&asJSON, "json", false, "print one JSON object on stdout")
	_ = cmd.MarkFlagRequired("account-name")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

type initOutput struct {
	AccountID   int64  `json:"account_id"`
	AccountName string `json:"account_name"`
	Plan        string `json:"plan"`
	UserID      int64  `json:"user_id"`
	Email       string `json:"email"`
	UserCreated bool   `json:"user_created"`
	PasswordSet bool   `json:"password_set"`
	Password    string `json:"password,omitempty"`
	Token       string `json:"token"`
	TokenUID    string `json:"token_uid"`
}

func initJSON(res *tokend.InitResult) initOutput {
	return initOutput{
		AccountID: int64(res.Account.ID), AccountName: res.Account.Name, Plan: string(res.Account.Plan),
		UserID: int64(res.User.ID), Email: res.User.Email, UserCreated: res.UserCreated, PasswordSet: res.PasswordSet,
		Password: res.GeneratedPassword, Token: res.Token, TokenUID: res.TokenUID,
	}
}
