package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildInfo is what this binary knows of its own build: the module version, the VCS commit and
// whether the tree had uncommitted changes, from the Go toolchain's build info.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	CommitAt  string `json:"commit_time,omitempty"`
	Dirty     bool   `json:"dirty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	// An -ldflags version wins; otherwise the module's (a tag when built with go install m@v).
	if b.Version == "dev" && bi.Main.Version != "" {
		b.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.CommitAt = s.Value
		case "vcs.modified":
			b.Dirty = s.Value == "true"
		}
	}
	return b
}

// String is the one-line form logs and /readyz use.
func (b buildInfo) String() string {
	s := b.Version
	if b.Commit != "" {
		s += " (" + b.Commit
		if b.Dirty {
			s += ", dirty"
		}
		s += ")"
	}
	return s
}

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build of this binary",
		Long: `version prints the module version, the commit it was built from and whether the tree
had uncommitted changes (dirty), from the build info the Go toolchain stamps into the binary.
A binary built with -buildvcs=false, or outside a git checkout, has no commit.`,
		Example: `  tokend version
  tokend version --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := readBuildInfo()
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSONOut(out, b)
			}
			fmt.Fprintf(out, "tokend %s\n", b.Version)
			commit := "unknown (built without VCS information)"
			if b.Commit != "" {
				commit = b.Commit
				if b.CommitAt != "" {
					commit += " of " + b.CommitAt
				}
				if b.Dirty {
					commit += ", dirty (uncommitted changes)"
				}
			}
			fmt.Fprintf(out, "commit:  %s\n", commit)
			fmt.Fprintf(out, "built:   %s %s\n", b.GoVersion, b.Platform)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
