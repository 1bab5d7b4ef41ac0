package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Optional OpenTelemetry tracing: off unless --otel-endpoint or the standard
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) names a collector. Spans
// go out over OTLP/HTTP in batches; the exporter's other standard variables (headers, timeout,
// OTEL_BSP_*) apply as the SDK reads them.

// tracingEnabled reports whether a collector is named.
func tracingEnabled(flag string) bool {
	return flag != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// newTracer returns the tracer of the server's spans and the function that flushes and stops
// the exporter at shutdown; a nil tracer when tracing is off. endpoint, when set, is a base URL
// as OTEL_EXPORTER_OTLP_ENDPOINT is (http://collector:4318): spans go to its /v1/traces.
func newTracer(ctx context.Context, endpoint string, build buildInfo) (trace.Tracer, func(context.Context) error, error) {
	if !tracingEnabled(endpoint) {
		return nil, func(context.Context) error { return nil }, nil
	}
	var opts []otlptracehttp.Option
	if endpoint != "" {
		if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
			return nil, nil, fmt.Errorf("--otel-endpoint must be an http:// or https:// URL, got %q", endpoint)
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(strings.TrimSuffix(endpoint, "/")+"/v1/traces"))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("OpenTelemetry exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", "tokend"), attribute.String("service.version", build.Version)))
	if err != nil {
		return nil, nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp.Tracer("tokend"), tp.Shutdown, nil
}
