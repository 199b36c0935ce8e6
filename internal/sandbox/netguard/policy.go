package netguard

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Environment variables read by PolicyFromEnv.
const (
	EnvSecurityCheck = "HTTP_SECURITY_CHECK"
	EnvDenyList      = "HTTP_DENY_LIST"
	EnvAllowList     = "FLOWGATE_HTTP_ALLOW_LIST"
)

// Resolver looks up host names. *net.Resolver satisfies it; tests inject
// fakes to simulate names that resolve to private or changing addresses.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Policy decides which destinations outbound HTTP may reach.
//
// Deny and Allow hold entries as written in the settings: IPs, CIDRs,
// host names ("api.corp", "*.corp") and IP or host with a port
// ("127.0.0.1:8080"). ParsePolicy validates them; a hand-built Policy with an
// invalid entry refuses every request rather than guessing.
type Policy struct {
	Enforce  bool     // refuse private/special addresses (HTTP_SECURITY_CHECK)
	Deny     []string // always refused, even when Enforce is false
	Allow    []string // allowed despite being private; only meaningful when Enforce
	Resolver Resolver // nil means net.DefaultResolver
}

// ParsePolicy builds a Policy from the raw setting values. An empty
// securityCheck means true, like Flowise, which only switches the check off
// for the literal "false"; other spellings strconv.ParseBool accepts are
// honoured and anything else is an error so a typo cannot disable it.
func ParsePolicy(securityCheck, denyList, allowList string) (Policy, error) {
	enforce := true
	if v := strings.TrimSpace(securityCheck); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Policy{}, fmt.Errorf("netguard: invalid %s value %q: %w", EnvSecurityCheck, securityCheck, err)
		}
		enforce = b
	}
	deny, err := parseList(denyList)
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", EnvDenyList, err)
	}
	allow, err := parseList(allowList)
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", EnvAllowList, err)
	}
	return Policy{Enforce: enforce, Deny: deny, Allow: allow}, nil
}

// PolicyFromEnv reads the three settings through getenv (os.Getenv when nil).
func PolicyFromEnv(getenv func(string) string) (Policy, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	return ParsePolicy(getenv(EnvSecurityCheck), getenv(EnvDenyList), getenv(EnvAllowList))
}

// guard is a Policy with its entries parsed once.
type guard struct {
	enforce  bool
	deny     []rule
	allow    []rule
	resolver Resolver
}

func (p Policy) compile() (*guard, error) {
	deny, err := parseRules(p.Deny)
	if err != nil {
		return nil, fmt.Errorf("netguard: deny list: %w", err)
	}
	allow, err := parseRules(p.Allow)
	if err != nil {
		return nil, fmt.Errorf("netguard: allow list: %w", err)
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	return &guard{enforce: p.Enforce, deny: deny, allow: allow, resolver: r}, nil
}
