package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newAPICmd() *cobra.Command {
	var (
		rf            remoteFlags
		method, input string
		fields, raw   []string
		include       bool
	)
	cmd := &cobra.Command{
		Use:   "api PATH",
		Short: "Call any route of the API with the CLI's token and print the answer",
		Long: `api sends one request to PATH on the server with the stored token (or TOKEND_TOKEN) and prints
the response body, indented. {account_id} and {user_id} in PATH are filled in from the token.

Fields: -F key=value sends value typed (numbers, true, false, null, or JSON in [..] / {..});
-f key=value sends it as a string. A GET puts fields in the query string; other methods send
them as one JSON object. --input FILE sends the file ("-" for stdin) as the body instead.
The method is GET, or POST when there are fields or --input; -X sets it.

It exits 0 on a 2xx answer, 4 on 401, and 1 on any other error status (the body is printed
either way).`,
		Example: `  tokend api /api/v3/whoami/
  tokend api -X GET /api/v3/accounts/{account_id}/users/ -f limit=10
  tokend api /api/v3/accounts/{account_id}/service-tokens/ -F name=ci -F 'permission_grants=[{"permission_set":"job_admin"}]'
  tokend api -X DELETE /api/v3/accounts/{account_id}/service-tokens/7/
  echo '{"token_ids": [12, 13]}' | tokend api /api/tokend/v1/accounts/{account_id}/tokens/revoke/ --input -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			s, err := rf.open()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			path := args[0]
			if !strings.HasPrefix(path, "/") {
				path = "/" + path
			}
			if strings.Contains(path, "{account_id}") || strings.Contains(path, "{user_id}") {
				accountID, userID, err := s.ids(ctx)
				if err != nil {
					return err
				}
				path = strings.NewReplacer("{account_id}", strconv.FormatInt(accountID, 10),
					"{user_id}", strconv.FormatInt(userID, 10)).Replace(path)
			}
			var query url.Values
			if p, q, ok := strings.Cut(path, "?"); ok {
				path = p
				if query, err = url.ParseQuery(q); err != nil {
					return usageErrorf("the query string in PATH cannot be read: %v", err)
				}
			}
			obj := map[string]any{}
			for _, f := range raw {
				k, v, ok := strings.Cut(f, "=")
				if !ok || k == "" {
					return usageErrorf("-f %q: want key=value", f)
				}
				obj[k] = v
			}
			for _, f := range fields {
				k, v, ok := strings.Cut(f, "=")
				if !ok || k == "" {
					return usageErrorf("-F %q: want key=value", f)
				}
				obj[k] = typedValue(v)
			}
			if input != "" && len(obj) > 0 {
				return usageErrorf("give --input or fields, not both")
			}
			m := strings.ToUpper(method)
			if m == "" {
				m = "GET"
				if input != "" || len(obj) > 0 {
					m = "POST"
				}
			}
			var body []byte
			switch {
			case input != "":
				if body, err = readInput(cmd, input); err != nil {
					return err
				}
			case len(obj) > 0 && m == "GET":
				// A GET carries its fields in the query string.
				if query == nil {
					query = url.Values{}
				}
				for k, v := range obj {
					query.Set(k, fmt.Sprint(v))
				}
			case len(obj) > 0:
				if body, err = json.Marshal(obj); err != nil {
					return err
				}
			}
			resp, err := s.client.Raw(ctx, m, path, query, body, "application/json")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if include {
				fmt.Fprintf(out, "HTTP %d\n", resp.StatusCode)
				keys := make([]string, 0, len(resp.Header))
				for k := range resp.Header {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					fmt.Fprintf(out, "%s: %s\n", k, strings.Join(resp.Header[k], ", "))
				}
				fmt.Fprintln(out)
			}
			var pretty bytes.Buffer
			if json.Indent(&pretty, resp.Body, "", "  ") == nil {
				pretty.WriteByte('\n')
				out.Write(pretty.Bytes())
			} else if len(resp.Body) > 0 {
				out.Write(resp.Body)
			}
			switch {
			case resp.StatusCode == 401:
				return authError(fmt.Errorf("%s %s: HTTP 401: the server refused the token", m, path))
			case resp.StatusCode >= 400:
				return fmt.Errorf("%s %s: HTTP %d", m, path, resp.StatusCode)
			}
			return nil
		},
	}
	rf.register(cmd.Flags())
	f := cmd.Flags()
	_ = f.MarkHidden("json") // the answer is JSON already
	f.StringVarP(&method, "method", "X", "", "HTTP method (default GET, or POST with a body)")
	f.StringArrayVarP(&fields, "field", "F", nil, "a typed field, key=value (numbers, booleans, null and JSON are sent as such)")
	f.StringArrayVarP(&raw, "raw-field", "f", nil, "a string field, key=value")
	f.StringVar(&input, "input", "", `file to send as the body ("-" for stdin)`)
	f.BoolVarP(&include, "include", "i", false, "print the status and headers before the body")
	return cmd
}

// typedValue reads -F's value as JSON where it is a number, a boolean, null, an array or an
// object, and as a string otherwise.
func typedValue(v string) any {
	t := strings.TrimSpace(v)
	if t == "true" || t == "false" || t == "null" || strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
		var out any
		if json.Unmarshal([]byte(t), &out) == nil {
			return out
		}
	}
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return f
	}
	return v
}

func readInput(cmd *cobra.Command, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = cmd.InOrStdin()
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 10<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 10<<20 {
		return nil, errors.New("--input: larger than 10 MiB")
	}
	return b, nil
}
