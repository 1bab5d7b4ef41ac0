package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// secretReader reads secrets for one command: from an environment variable, else the terminal
// without echo, else one line each from stdin (so that a script can pipe them in order).
type secretReader struct {
	cmd   *cobra.Command
	lines *bufio.Reader
}

func newSecretReader(cmd *cobra.Command) *secretReader { return &secretReader{cmd: cmd} }

// read returns the secret: env (when set), the terminal (prompting with label), or the next
// line of stdin.
func (s *secretReader) read(ctx context.Context, env, label string) (string, error) {
	if v, ok := os.LookupEnv(env); ok {
		if v == "" {
			return "", fmt.Errorf("%s is set but empty", env)
		}
		return v, nil
	}
	in := s.cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return readTerminalSecret(ctx, s.cmd.ErrOrStderr(), int(f.Fd()), label)
	}
	if s.lines == nil {
		s.lines = bufio.NewReader(in)
	}
	line, err := s.lines.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("no %s: give it on the terminal, as a line of stdin, or in %s", strings.ToLower(label), env)
	}
	v := strings.TrimRight(line, "\r\n")
	if v == "" {
		return "", fmt.Errorf("the %s on stdin is empty", strings.ToLower(label))
	}
	return v, nil
}

// readNew reads a new password; on a terminal it asks twice, so a typo does not lock anyone out.
func (s *secretReader) readNew(ctx context.Context, env, label string) (string, error) {
	pw, err := s.read(ctx, env, label)
	if err != nil {
		return "", err
	}
	if _, set := os.LookupEnv(env); set || !stdinIsTerminal(s.cmd) {
		return pw, nil
	}
	again, err := s.read(ctx, env, label+", again")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the two passwords differ")
	}
	return pw, nil
}

func stdinIsTerminal(cmd *cobra.Command) bool {
	f, ok := cmd.InOrStdin().(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// readTerminalSecret prompts on the terminal. Interrupt (which main turns into a cancelled
// context) gives up and puts the terminal back as it was.
func readTerminalSecret(ctx context.Context, prompt io.Writer, fd int, label string) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(prompt, "%s: ", label)
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(prompt)
		if r.err != nil {
			return "", fmt.Errorf("read %s: %w", strings.ToLower(label), r.err)
		}
		if len(r.b) == 0 {
			return "", fmt.Errorf("empty %s", strings.ToLower(label))
		}
		return string(r.b), nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(prompt)
		return "", errCancelled
	}
}

// confirm asks a yes/no question on the terminal. Without a terminal it refuses rather than
// guess: the caller says --yes.
func confirm(cmd *cobra.Command, question string) error {
	if !stdinIsTerminal(cmd) {
		return usageErrorf("%s needs confirmation: run it on a terminal, or add --yes", cmd.CommandPath())
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N] ", question)
	line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errCancelled
}
