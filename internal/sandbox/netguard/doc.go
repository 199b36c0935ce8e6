// Package netguard makes outbound HTTP requests that refuse server-side
// request forgery (SSRF).
//
// It mirrors Flowise's settings:
//
//   - HTTP_SECURITY_CHECK (default true). When true, loopback, private,
//     link-local (including cloud metadata), unspecified, CGNAT, multicast,
//     broadcast and other special-purpose addresses are refused, together
//     with well-known internal names such as metadata.google.internal.
//     When false, only HTTP_DENY_LIST applies, exactly like Flowise's
//     getHttpDenyList (packages/components/src/httpSecurity.ts), which drops
//     its built-in list but keeps the operator's entries.
//   - HTTP_DENY_LIST: comma-separated hosts, IPs or CIDRs that are always
//     refused, whatever HTTP_SECURITY_CHECK says. Deny beats allow.
//   - FLOWGATE_HTTP_ALLOW_LIST (Flowgate extension): comma-separated hosts,
//     IPs or CIDRs that are allowed even though they are private, for tests
//     and internal APIs. Entries may carry a port ("10.0.0.5:8080").
//
// The decisive check runs at dial time on the resolved address: the dialer
// resolves the host itself, checks every address and then connects to a
// checked IP, so DNS rebinding and redirects cannot slip through; a
// net.Dialer Control hook re-checks the socket address as a second line.
// Proxies from the environment are disabled because a proxy would make the
// dial address meaningless. Non-canonical IPv4 spellings such as
// "2130706433" or "0x7f.1" are refused outright: resolvers disagree on what
// they mean, so no answer is safe.
//
// Redirects keep credentials with their host: once a redirect chain leaves the first
// request's host and port (or moves from https to http), only descriptive headers (Accept,
// Content-Type, User-Agent, ...) follow; Authorization, cookies and a credential's own header
// do not. Referer is never sent, since the first URL's query may hold a key.
package netguard
