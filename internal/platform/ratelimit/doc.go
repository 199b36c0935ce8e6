// Package ratelimit enforces Flowise's per-chatflow rate limits (apiConfig.rateLimit:
// limitMax requests per limitDuration seconds, fixed window, per client) in a way that
// holds behind load balancers and across API replicas.
//
// The API layer parses the chatflow's rule (ParseRule), resolves the client address
// (IPResolver.ClientIP), builds the client key (Rule.ClientKey), calls Limiter.Take with
// the chatflow id as scope, writes Decision.SetHeaders, and answers 429 with
// Rule.Message when the decision is not Allowed.
//
// Forged X-Forwarded-For: only addresses appended by proxies we trust are read. With N
// proxies configured, the client address is the N-th entry from the right (the socket peer
// being position 0), so entries a client adds or forges on the left are never looked at
// and cannot change its key. TRUST_PROXY=true, which in Express lets the client pick its
// address, is treated as one proxy and reported by IPResolver.Warning.
//
// IPv6: a host picks its addresses freely inside its /64, so the API counts IPv6 clients
// per network (CountedAddress, /64 by default) and IPv4-mapped IPv6 addresses as IPv4.
//
// Shared store: with Postgres (Config.Stores = (*Postgres).Store) every replica counts in
// one table with a single atomic upsert judged by the database clock, so N replicas allow
// exactly limitMax requests per window between them. MemoryStores counts per process.
//
// Fail open: a store that errors or does not answer within Config.StoreTimeout does not
// stop chatflows by default (Config.FailOpen, as set by DefaultConfig). Take then allows
// the request and returns an error matching ErrStoreUnavailable for the caller to log.
// With FailOpen false it refuses with a short Retry-After instead. Take never waits longer
// than the store timeout, even on a store that ignores its context.
package ratelimit
