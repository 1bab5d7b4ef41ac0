package tokend

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"time"
)

// FlashLifetime bounds how long a one-time message of a console session waits to be read: the
// page it is for loads right after the redirect that names it.
const FlashLifetime = 10 * time.Minute

// errFlashGone answers a message that was read already, is too old, or is another session's.
var errFlashGone = &Error{Code: ENotFound, Message: "This was shown once and cannot be shown again."}

// PutFlash stores value as a one-time message of the session whose cookie is raw and returns
// the handle that reads it. The value is sealed (AES-GCM) with a key derived from the cookie,
// which the server never stores: the database alone cannot open it.
func (s *Service) PutFlash(ctx context.Context, raw string, sess *Session, value []byte) (string, error) {
	if sess == nil {
		return "", ErrNoSession
	}
	aead, err := flashCipher(raw)
	if err != nil {
		return "", err
	}
	handle := make([]byte, 16)
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(s.rand, handle); err != nil {
		return "", err
	}
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return "", err
	}
	key := base64.RawURLEncoding.EncodeToString(handle)
	sealed := aead.Seal(nonce, nonce, value, []byte(key))
	if err := s.store.PutSessionFlash(ctx, sess.ID, key, sealed, s.now()); err != nil {
		return "", err
	}
	return key, nil
}

// TakeFlash returns the session's message under handle and deletes it: a second read, a
// read after FlashLifetime or from another session finds nothing.
func (s *Service) TakeFlash(ctx context.Context, raw string, sess *Session, handle string) ([]byte, error) {
	if sess == nil {
		return nil, ErrNoSession
	}
	if len(handle) == 0 || len(handle) > 64 {
		return nil, errFlashGone
	}
	sealed, err := s.store.TakeSessionFlash(ctx, sess.ID, handle, s.now().Add(-FlashLifetime))
	if isNotFound(err) {
		return nil, errFlashGone
	}
	if err != nil {
		return nil, err
	}
	aead, err := flashCipher(raw)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errFlashGone
	}
	value, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(handle))
	if err != nil {
		return nil, errFlashGone
	}
	return value, nil
}

// flashCipher derives the session's message key from its cookie.
func flashCipher(raw string) (cipher.AEAD, error) {
	if _, ok := sessionHash(raw); !ok {
		return nil, ErrNoSession
	}
	mac := hmac.New(sha256.New, []byte(raw))
	mac.Write([]byte("tokend console one-time message"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
