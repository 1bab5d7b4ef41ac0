package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AuditEvent is one event of an account's audit log.
type AuditEvent struct {
	ID        string `json:"id"`
	AccountID int64  `json:"account_id"`
	EventType string `json:"event_type"`
	Actor     struct {
		UserID   *int64 `json:"user_id"`
		TokenUID string `json:"token_uid,omitempty"`
	} `json:"actor"`
	EventContext struct {
		TargetType string            `json:"target_type"`
		TargetID   *int64            `json:"target_id"`
		IP         string            `json:"ip"`
		UserAgent  string            `json:"user_agent"`
		Detail     map[string]string `json:"detail"`
	} `json:"event_context"`
	CreatedAt *time.Time `json:"created_at"`
}

// AuditOptions filter the audit log; zero values select everything.
type AuditOptions struct {
	Limit, Offset int
	EventType     string
	ActorUserID   int64
	TokenUID      string    // the events a token acted in and those that acted on it
	Since, Until  time.Time // Since inclusive, Until exclusive
}

func (o AuditOptions) query() url.Values {
	q := ListOptions{Limit: o.Limit, Offset: o.Offset}.query()
	if o.EventType != "" {
		q.Set("event_type", o.EventType)
	}
	if o.ActorUserID != 0 {
		q.Set("actor_user_id", strconv.FormatInt(o.ActorUserID, 10))
	}
	if o.TokenUID != "" {
		q.Set("token_uid", o.TokenUID)
	}
	if !o.Since.IsZero() {
		q.Set("since", o.Since.UTC().Format(time.RFC3339Nano))
	}
	if !o.Until.IsZero() {
		q.Set("until", o.Until.UTC().Format(time.RFC3339Nano))
	}
	return q
}

// AuditLog lists one page of the account's audit events, newest first.
func (c *Client) AuditLog(ctx context.Context, accountID int64, o AuditOptions) ([]AuditEvent, Page, error) {
	var (
		es    []AuditEvent
		extra listExtra
	)
	if err := c.do(ctx, "GET", fmt.Sprintf("/api/v3/accounts/%d/audit-logs/", accountID), o.query(), nil, &es, &extra); err != nil {
		return nil, Page{}, err
	}
	return es, extra.page(), nil
}

// ExportAudit writes the audit events that o selects (its paging aside) to w as format ("csv" or
// "json"), as the server streams them, and returns how many bytes it wrote. The server refuses
// an export past its bound before sending anything (an *APIError); a response cut short midway
// is an error, never a complete-looking file. The client's timeout does not apply: an export
// takes as long as it takes; bound it with ctx.
func (c *Client) ExportAudit(ctx context.Context, accountID int64, o AuditOptions, format string, w io.Writer) (int64, error) {
	if c.baseErr != nil {
		return 0, c.baseErr
	}
	path := fmt.Sprintf("/api/tokend/v1/accounts/%d/audit-logs/export/", accountID)
	o.Limit, o.Offset = 0, 0
	q := o.query()
	q.Set("format", format)
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("tokend client: GET %s: %w", path, err)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if err := c.authorize(req); err != nil {
		return 0, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
		var env envelope
		if json.Unmarshal(raw, &env) != nil {
			return 0, c.apiError(resp, nil)
		}
		return 0, c.apiError(resp, &env)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("tokend client: GET %s: the export was cut short after %d bytes: %w", path, n, err)
	}
	return n, nil
}
