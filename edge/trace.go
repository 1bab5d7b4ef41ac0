package edge

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Tracing, when a tracer is configured (Options.Tracer): one server span per request, named by
// the route pattern, child of the caller's W3C traceparent when it sends one. Without a tracer
// none of this runs: a request costs one nil check.

var traceContext = propagation.TraceContext{}

// startSpan starts r's span, under the trace that r's traceparent names.
func (e *Edge) startSpan(ctx context.Context, r *http.Request) (context.Context, trace.Span) {
	ctx = traceContext.Extract(ctx, propagation.HeaderCarrier(r.Header))
	return e.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method)))
}

// endSpan names the span by the route that served r (known only once the door's mux has
// matched it), as the route table spells it (without the mux's exact-match "{$}"), and records
// the status; a 5xx marks the span as failed.
func endSpan(span trace.Span, r *http.Request, door string, status int) {
	name := strings.TrimSuffix(r.Pattern, "{$}")
	if name == "" {
		name = r.Method + " (no route)"
	}
	span.SetName(name)
	span.SetAttributes(attribute.String("http.route", name), attribute.Int("http.response.status_code", status),
		attribute.String("tokend.door", door))
	if status >= 500 {
		span.SetStatus(codes.Error, strconv.Itoa(status))
	}
	span.End()
}
