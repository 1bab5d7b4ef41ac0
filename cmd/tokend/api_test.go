package main

import (
	"reflect"
	"testing"
)

func TestTypedValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want any
	}{
		{"42", int64(42)},
		{"-3", int64(-3)},
		{"1.5", 1.5},
		{"true", true},
		{"false", false},
		{"null", nil},
		{`[1, "a"]`, []any{float64(1), "a"}},
		{`{"permission_set": "job_admin"}`, map[string]any{"permission_set": "job_admin"}},
		{"ci", "ci"},
		{"[not json", "[not json"},
		{"007x", "007x"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := typedValue(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("typedValue(%q): got %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}
