package otelsetup

import (
	"hash/maphash"
	"maps"
	"sync"

	"go.temporal.io/sdk/client"
)

// maxTagSets bounds the handlers one handler keeps by tags; beyond it, new tags are not cached.
const maxTagSets = 512

// cachedTags is the Temporal SDK's metrics handler with its WithTags results kept. The SDK
// asks for a tagged handler at every task, request and poll, and the OpenTelemetry handler
// builds a sorted attribute set each time (about 1 KB and 7 allocations); the tag sets
// themselves are few (namespace, task queue, workflow and activity types, operations).
type cachedTags struct {
	client.MetricsHandler
	mu      sync.RWMutex
	byHash  map[uint64][]taggedHandler
	entries int
}

type taggedHandler struct {
	tags map[string]string
	h    *cachedTags
}

func newCachedTags(h client.MetricsHandler) *cachedTags {
	return &cachedTags{MetricsHandler: h, byHash: map[uint64][]taggedHandler{}}
}

var tagSeed = maphash.MakeSeed()

// hashTags hashes a tag set whatever the map's iteration order, without allocating: the sum
// of each pair's hash, key and value apart (a separator keeps "ab"+"c" from "a"+"bc").
func hashTags(tags map[string]string) uint64 {
	var sum uint64
	var h maphash.Hash
	h.SetSeed(tagSeed)
	for k, v := range tags {
		h.Reset()
		h.WriteString(k)
		h.WriteByte(0)
		h.WriteString(v)
		sum += h.Sum64()
	}
	return sum
}

// WithTags returns the handler with tags added, made once per tag set.
func (c *cachedTags) WithTags(tags map[string]string) client.MetricsHandler {
	key := hashTags(tags)
	c.mu.RLock()
	h := c.find(key, tags)
	c.mu.RUnlock()
	if h != nil {
		return h
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Another caller may have made it since we looked.
	if h := c.find(key, tags); h != nil {
		return h
	}
	h = newCachedTags(c.MetricsHandler.WithTags(tags))
	if c.entries < maxTagSets {
		c.byHash[key] = append(c.byHash[key], taggedHandler{tags: maps.Clone(tags), h: h})
		c.entries++
	}
	return h
}

// find is the handler kept for tags, or nil; c.mu is held.
func (c *cachedTags) find(key uint64, tags map[string]string) *cachedTags {
	for _, t := range c.byHash[key] {
		if maps.Equal(t.tags, tags) {
			return t.h
		}
	}
	return nil
}

// Unwrap is the OpenTelemetry handler, for go.temporal.io/sdk/contrib/opentelemetry's
// ExtractMetricsHandler.
func (c *cachedTags) Unwrap() client.MetricsHandler { return c.MetricsHandler }
