package shred

import (
	"container/list"
	"crypto/cipher"
	"sync"
	"time"

	"github.com/google/uuid"
)

// keyCache holds unwrapped data keys (as ready AEADs) by subject and key
// id, at most size of them, each for at most ttl after it was read from
// the database, least recently used evicted first. It also remembers the
// key ids this process forgot (up to size of them): those are never cached
// again, so that after Forget no cache entry can outlive it, whichever
// goroutine read the key meanwhile. Safe for concurrent use.
type keyCache struct {
	size int
	ttl  time.Duration
	now  func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]*list.Element // of *cacheEntry
	lru     list.List                  // most recent first
	// forgotten are the key ids Forget deleted, oldest first in order.
	forgotten map[cacheKey]struct{}
	order     []cacheKey
}

type cacheKey struct {
	subject string
	keyID   uuid.UUID
}

type cacheEntry struct {
	key      cacheKey
	aead     cipher.AEAD
	loadedAt time.Time
}

// newKeyCache returns a cache of size entries for ttl; nil (no cache) when
// either is not positive.
func newKeyCache(size int, ttl time.Duration, now func() time.Time) *keyCache {
	if size <= 0 || ttl <= 0 {
		return nil
	}
	return &keyCache{size: size, ttl: ttl, now: now, entries: map[cacheKey]*list.Element{}, forgotten: map[cacheKey]struct{}{}}
}

// get returns the key's AEAD if it is cached and fresh.
func (c *keyCache) get(k cacheKey) (cipher.AEAD, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if c.now().Sub(e.loadedAt) >= c.ttl {
		c.lru.Remove(el)
		delete(c.entries, k)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e.aead, true
}

// put caches aead for k, read from the database at loadedAt, unless k was
// forgotten.
func (c *keyCache) put(k cacheKey, aead cipher.AEAD, loadedAt time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, gone := c.forgotten[k]; gone {
		return
	}
	if el, ok := c.entries[k]; ok {
		el.Value.(*cacheEntry).loadedAt = loadedAt
		c.lru.MoveToFront(el)
		return
	}
	c.entries[k] = c.lru.PushFront(&cacheEntry{key: k, aead: aead, loadedAt: loadedAt})
	if c.lru.Len() > c.size {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).key)
	}
}

// forget drops k and keeps it from being cached again.
func (c *keyCache) forget(k cacheKey) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.lru.Remove(el)
		delete(c.entries, k)
	}
	if _, ok := c.forgotten[k]; ok {
		return
	}
	c.forgotten[k] = struct{}{}
	c.order = append(c.order, k)
	if len(c.order) > c.size {
		delete(c.forgotten, c.order[0])
		c.order = c.order[1:]
	}
}
