package bookmark

import (
	"fmt"
	"strings"
	"sync"
)

// MemoryStore is a Store that keeps everything in memory: a subscription
// resumes correctly after a reconnect, but not after a restart.
type MemoryStore struct {
	mu   sync.Mutex
	subs map[string]*subscription
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{subs: map[string]*subscription{}} }

func (m *MemoryStore) sub(id string) *subscription {
	s := m.subs[id]
	if s == nil {
		s = newSubscription()
		m.subs[id] = s
	}
	return s
}

func (m *MemoryStore) change(subID, bookmark string, kind byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, one := range strings.Split(bookmark, ",") {
		bm, err := Parse(strings.TrimSpace(one))
		if err != nil {
			continue
		}
		if kind == kindDiscarded {
			if s := m.subs[subID]; s != nil {
				s.discard(bm)
			}
			continue
		}
		m.sub(subID).apply(kind, bm)
	}
}

// Log implements Store.
func (m *MemoryStore) Log(subID, bookmark string) error {
	if IsRange(bookmark) {
		r, err := ParseRange(bookmark)
		if err != nil {
			return fmt.Errorf("bookmark store: subscription %q: %w", subID, err)
		}
		m.mu.Lock()
		m.sub(subID).setRange(r)
		m.mu.Unlock()
		return nil
	}
	m.change(subID, bookmark, kindReceived)
	return nil
}

// Discard implements Store.
func (m *MemoryStore) Discard(subID, bookmark string) error {
	m.change(subID, bookmark, kindDiscarded)
	return nil
}

// IsDiscarded implements Store.
func (m *MemoryStore) IsDiscarded(subID, bookmark string) bool {
	bm, err := Parse(bookmark)
	if err != nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.subs[subID]
	return s != nil && s.isDiscarded(bm)
}

// MostRecent implements Store.
func (m *MemoryStore) MostRecent(subID string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.subs[subID]; s != nil {
		return s.mostRecent()
	}
	return Epoch
}

// Persisted implements Store.
func (m *MemoryStore) Persisted(subID, bookmark string) error {
	m.change(subID, bookmark, kindPersisted)
	return nil
}

// Flush implements Store; there is nothing to flush.
func (m *MemoryStore) Flush() error { return nil }

// Prune implements Store. Memory is released as bookmarks are discarded, so
// there is nothing left to drop.
func (m *MemoryStore) Prune() error { return nil }

// Close implements Store.
func (m *MemoryStore) Close() error { return nil }
