// Package console is tokend's web console: server-rendered pages (html/template, embedded
// static files) over the same Service as the JSON API. Every action runs with the signed-in
// user's session principal, so the console may do exactly what a PAT of that user may do.
// The core flows need no JavaScript; console.js only adds conveniences such as a copy button.
package console

import (
	"context"
	"crypto/rand"
	"embed"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"tokend"
	"tokend/edge"
	"tokend/throttle"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// maxFormBytes bounds a form post; the largest form (bulk revoke of 1000 ids) fits easily.
const maxFormBytes = 64 << 10

// Options configure a Console.
type Options struct {
	Logger *slog.Logger
	// Now is the console's clock, for what pages show (time.Now).
	Now func() time.Time
	// Edge is the front door both the console and the API stand behind: the client address,
	// request ids, the request log (edge.Default when nil).
	Edge *edge.Edge
	// RouteNeeds is what each API route requires, for the legacy-key usage report's
	// suggestions (the JSON API knows its routes; see httpapi.RouteNeeds).
	RouteNeeds map[string]tokend.RouteNeed
	// Rand is the source of the sign-in form's tokens (crypto/rand.Reader).
	Rand io.Reader
}

// activityFunc returns a token's requests per day (Service.TokenActivity).
type activityFunc func(ctx context.Context, p *tokend.Principal, tokenID tokend.TokenID, days int) ([]tokend.DailyUse, error)

// Console serves the web console.
type Console struct {
	svc      *tokend.Service
	log      *slog.Logger
	opts     Options
	now      func() time.Time
	edge     *edge.Edge
	pages    map[string]*page
	static   fs.FS
	version  string // of the static files, for cache busting
	activity activityFunc
	// Wrong device-login codes per user.
	deviceFailures *throttle.Failures
}

// New returns a Console over svc. It panics if the embedded templates do not parse, which a
// test catches before any release.
func New(svc *tokend.Service, opts Options) *Console {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Edge == nil {
		opts.Edge = edge.Default(opts.Logger)
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	c := &Console{
		svc: svc, log: opts.Logger, opts: opts, now: opts.Now, edge: opts.Edge, static: static,
		activity:       svc.TokenActivity,
		deviceFailures: throttle.New(deviceBurst, deviceRefill),
	}
	c.version = staticVersion(static)
	c.pages = mustParsePages(c.funcs())
	return c
}

// Handler returns the console behind the edge, with its own middleware: every response gets
// the security headers, every unsafe request must come from this origin.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	c.routes(mux)
	return c.edge.Wrap("console", securityHeaders(c.sameOrigin(limitBody(mux))),
		func(w http.ResponseWriter, r *http.Request, err error) { c.renderError(w, r, nil, err) })
}

func (c *Console) routes(mux *http.ServeMux) {
	mux.Handle("GET /static/", c.serveStatic())
	mux.HandleFunc("GET /signin", c.signInPage)
	mux.HandleFunc("POST /signin", c.signIn)
	mux.Handle("POST /signout", c.sessionOnly(c.signOut))
	mux.Handle("POST /account", c.sessionOnly(c.switchAccount))
	mux.Handle("GET /{$}", c.authed(c.home))

	// Account settings → API tokens → Personal tokens.
	mux.Handle("GET /settings/tokens/personal", c.authed(c.listPATs))
	mux.Handle("GET /settings/tokens/personal/new", c.authed(c.newPATForm))
	mux.Handle("POST /settings/tokens/personal/new", c.authed(c.createPAT))
	mux.Handle("GET /settings/tokens/personal/{id}", c.authed(c.showPAT))
	mux.Handle("GET /settings/tokens/personal/{id}/delete", c.authed(c.confirmDeletePAT))
	mux.Handle("POST /settings/tokens/personal/{id}/delete", c.authed(c.deletePAT))
	mux.Handle("GET /settings/tokens/personal/{id}/rotate", c.authed(c.confirmRotatePAT))
	mux.Handle("POST /settings/tokens/personal/{id}/rotate", c.authed(c.rotatePAT))

	// Account settings → Service tokens.
	mux.Handle("GET /settings/service-tokens", c.authed(c.listServiceTokens))
	mux.Handle("GET /settings/service-tokens/new", c.authed(c.newServiceTokenForm))
	mux.Handle("POST /settings/service-tokens/new", c.authed(c.createServiceToken))
	mux.Handle("GET /settings/service-tokens/{id}", c.authed(c.showServiceToken))
	mux.Handle("GET /settings/service-tokens/{id}/delete", c.authed(c.confirmDeleteServiceToken))
	mux.Handle("POST /settings/service-tokens/{id}/delete", c.authed(c.deleteServiceToken))
	mux.Handle("GET /settings/service-tokens/{id}/rename", c.authed(c.renameServiceTokenForm))
	mux.Handle("POST /settings/service-tokens/{id}/rename", c.authed(c.renameServiceToken))
	mux.Handle("GET /settings/service-tokens/{id}/permissions", c.authed(c.permissionsForm))
	mux.Handle("POST /settings/service-tokens/{id}/permissions", c.authed(c.setPermissions))
	mux.Handle("GET /settings/service-tokens/{id}/rotate", c.authed(c.confirmRotateServiceToken))
	mux.Handle("POST /settings/service-tokens/{id}/rotate", c.authed(c.rotateServiceToken))
	mux.Handle("GET /settings/service-tokens/{id}/advice", c.authed(c.showAdvice))
	mux.Handle("POST /settings/service-tokens/{id}/advice", c.authed(c.applyAdvice))

	// Account settings → Trust policies (keyless CI).
	mux.Handle("GET /settings/trust-policies", c.authed(c.listTrustPolicies))
	mux.Handle("GET /settings/trust-policies/new", c.authed(c.newTrustPolicyForm))
	mux.Handle("POST /settings/trust-policies/new", c.authed(c.createTrustPolicy))
	mux.Handle("GET /settings/trust-policies/{id}/edit", c.authed(c.editTrustPolicyForm))
	mux.Handle("POST /settings/trust-policies/{id}/edit", c.authed(c.updateTrustPolicy))
	mux.Handle("GET /settings/trust-policies/{id}/delete", c.authed(c.confirmDeleteTrustPolicy))
	mux.Handle("POST /settings/trust-policies/{id}/delete", c.authed(c.deleteTrustPolicy))

	// Account settings → Webhooks.
	mux.Handle("GET /settings/webhooks", c.authed(c.listWebhooks))
	mux.Handle("GET /settings/webhooks/new", c.authed(c.newWebhookForm))
	mux.Handle("POST /settings/webhooks/new", c.authed(c.createWebhook))
	mux.Handle("GET /settings/webhooks/{id}", c.authed(c.showWebhook))
	mux.Handle("POST /settings/webhooks/{id}/active", c.authed(c.setWebhookActive))
	mux.Handle("POST /settings/webhooks/{id}/rotate", c.authed(c.rotateWebhookSecret))
	mux.Handle("GET /settings/webhooks/{id}/delete", c.authed(c.confirmDeleteWebhook))
	mux.Handle("POST /settings/webhooks/{id}/delete", c.authed(c.deleteWebhook))
	mux.Handle("GET /settings/webhooks/{id}/deliveries/{delivery}", c.authed(c.showDelivery))
	mux.Handle("POST /settings/webhooks/{id}/deliveries/{delivery}/redeliver", c.authed(c.redeliverWebhook))

	// Account settings → Token policies (admins only).
	mux.Handle("GET /settings/token-policies", c.authed(c.tokenPolicies))
	mux.Handle("POST /settings/token-policies", c.authed(c.saveTokenPolicies))

	// A new token's secret, shown once after the POST that made it.
	mux.Handle("GET "+shownOncePath, c.authed(c.secretOnce))

	// Account settings: people, projects, the record, and the token inventory.
	mux.Handle("GET /settings/users", c.authed(c.listUsers))
	mux.Handle("POST /settings/users/{id}/password-reset", c.authed(c.createResetLink))
	mux.Handle("GET /settings/groups", c.authed(c.listGroups))
	mux.Handle("GET /settings/projects", c.authed(c.listProjects))
	mux.Handle("GET /settings/audit-log", c.authed(c.auditLog))
	mux.Handle("GET /settings/audit-log/export", c.authed(c.exportAudit))
	mux.Handle("GET /settings/tokens/inventory", c.authed(c.inventory))
	mux.Handle("POST /settings/tokens/inventory/revoke", c.authed(c.revokeTokens))
	mux.Handle("POST /settings/tokens/{id}/enable", c.authed(c.enableToken))

	// Device login: approve a `tokend login` running elsewhere.
	mux.Handle("GET /device", c.authed(c.devicePage))
	mux.Handle("POST /device", c.authed(c.enterDeviceCode))
	mux.Handle("POST /device/decide", c.authed(c.decideDevice))

	// Personal settings → API key.
	mux.Handle("GET /invitations", c.authed(c.invitations))
	mux.Handle("POST /invitations/{id}/accept", c.authed(c.acceptInvitation))
	mux.Handle("GET /profile/password", c.authed(c.passwordForm))
	mux.Handle("POST /profile/password", c.authed(c.changePassword))
	mux.HandleFunc("GET "+tokend.PasswordResetPath, c.resetPage)
	mux.HandleFunc("POST "+tokend.PasswordResetPath, c.resetPassword)
	mux.Handle("GET /profile/api-key", c.authed(c.apiKey))
	mux.Handle("GET /profile/api-key/rotate", c.authed(c.confirmRotateAPIKey))
	mux.Handle("POST /profile/api-key/rotate", c.authed(c.rotateAPIKey))

	mux.HandleFunc("/", c.notFound)
}

// limitBody bounds every request body.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		next.ServeHTTP(w, r)
	})
}

// secure reports whether the browser talks to us over TLS: then cookies are Secure and take
// the __Host- prefix.
func (c *Console) secure(r *http.Request) bool { return edge.ClientFrom(r.Context()).Secure }
