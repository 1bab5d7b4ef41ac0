package httpapi

import (
	"bytes"
	"encoding/json"
	"sync"
)

// encodedCache keeps the JSON of values the Service serves from its caches (an account, the
// projects of a list), so that a read answered from memory is not encoded again on every
// request: encoding was most of such a request's work (a list of 20 projects cost nine
// /healthz requests, nearly all of it JSON and time formatting).
//
// An entry is the value's id, the pointer the Service answered with and its encoding; it
// answers only for that same pointer. The Service's cached values are shared and never
// modified (cache.go), and a change of one drops it, so the next read brings a new pointer
// and a new encoding; a value read from the store (a cache miss, a node that does not trust
// its caches) is a new pointer too, encoded once and put. Holding the pointer keeps its
// address from being reused while the entry lives.
//
// The cache holds at most max entries; past that it starts again empty, which only costs
// encodings.
type encodedCache[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]encodedEntry[V]
	max int
	enc func(*V) any // what to encode for a value (its wire type)
}

type encodedEntry[V any] struct {
	v    *V
	json []byte
}

func newEncodedCache[K comparable, V any](max int, enc func(*V) any) *encodedCache[K, V] {
	return &encodedCache[K, V]{m: make(map[K]encodedEntry[V]), max: max, enc: enc}
}

// get returns v's JSON (as writeJSON would write it inside the envelope), encoding it when
// the entry for id holds another value.
func (c *encodedCache[K, V]) get(id K, v *V) []byte {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if ok && e.v == v {
		return e.json
	}
	b := encodeJSON(c.enc(v))
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[id] = encodedEntry[V]{v: v, json: b}
	c.mu.Unlock()
	return b
}

// appendList appends items as a JSON array of their encodings, under one read lock while
// every item is in the cache.
func (c *encodedCache[K, V]) appendList(b []byte, items []*V, id func(*V) K) []byte {
	b = append(b, '[')
	i := 0
	c.mu.RLock()
	for ; i < len(items); i++ {
		e, ok := c.m[id(items[i])]
		if !ok || e.v != items[i] {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.json...)
	}
	c.mu.RUnlock()
	for ; i < len(items); i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, c.get(id(items[i]), items[i])...)
	}
	return append(b, ']')
}

// encodeJSON is v as the envelope's encoder writes it (no HTML escaping), without the
// encoder's trailing newline.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// The wire types are plain structs: failing to encode one is a programming error.
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
