package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// cliConfig is the client commands' per-user file: where the server is and the CLI's own
// personal access token. It holds a secret, so it lives in a 0700 directory with mode 0600.
type cliConfig struct {
	URL       string `json:"url"`
	Email     string `json:"email,omitempty"`
	AccountID int64  `json:"account_id"`
	UserID    int64  `json:"user_id"`
	TokenID   int64  `json:"token_id,omitempty"`
	TokenUID  string `json:"token_uid,omitempty"`
	Token     string `json:"token,omitempty"`
}

// configPath is --config (TOKEND_CONFIG), or tokend/config.json under the user's config
// directory.
func configPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory (%v); set TOKEND_CONFIG or --config", err)
	}
	return filepath.Join(dir, "tokend", "config.json"), nil
}

// errNoConfig says there is no config file yet.
var errNoConfig = errors.New("no config file")

// loadConfig reads the config file, refusing one that others could read or change: the token
// in it is as good as the user's password.
func loadConfig(path string) (*cliConfig, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoConfig
	}
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("config file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("config file %s holds a token but has mode %04o, open to group or others; "+
			"fix it with: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	var c cliConfig
	dec := json.NewDecoder(f)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config file %s is not valid JSON; remove it and log in again", path)
	}
	return &c, nil
}

// saveConfig writes c atomically: a temporary file in the same directory, mode 0600, synced,
// then renamed over the old one, so a crash leaves either the old file or the new.
func saveConfig(path string, c *cliConfig) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("config directory: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".config-*.tmp")
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	return nil
}

// forgetToken removes the CLI's token from c, keeping the server and ids for the next login.
func (c *cliConfig) forgetToken() {
	c.Token, c.TokenUID, c.TokenID = "", "", 0
}
