package netguard

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBlockedAddr(t *testing.T) {
	blocked := []string{
		"127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255",
		"192.168.1.1", "169.254.169.254", "169.254.169.253", "0.0.0.0", "0.1.2.3",
		"100.64.0.1", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
		"198.18.0.1", "192.0.0.170",
		"::", "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd00:ec2::254", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:169.254.169.254", "::ffff:10.0.0.1",
		"::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1",
		"2002:a9fe:a9fe::", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "64:ff9b:1::1",
	}
	for _, s := range blocked {
		reason, bad := blockedAddr(netip.MustParseAddr(s))
		require.True(t, bad, s)
		require.NotEmpty(t, reason, s)
	}
	allowed := []string{
		"93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1",
		"2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
	}
	for _, s := range allowed {
		_, bad := blockedAddr(netip.MustParseAddr(s))
		require.False(t, bad, s)
	}
}

func TestBlockedName(t *testing.T) {
	for _, n := range []string{"localhost", "foo.localhost", "metadata.google.internal", "metadata", "instance-data"} {
		_, bad := blockedName(n)
		require.True(t, bad, n)
	}
	for _, n := range []string{"example.com", "localhost.example.com", "mylocalhost"} {
		_, bad := blockedName(n)
		require.False(t, bad, n)
	}
}

func TestNumericLastLabel(t *testing.T) {
	for _, h := range []string{"2130706433", "0x7f.1", "017700000001", "127.1", "0x7f000001", "0177.0.0.1", "foo.123", "0x"} {
		require.True(t, numericLastLabel(h), h)
	}
	for _, h := range []string{"example.com", "123.example", "0xdead.beef.com", "a1"} {
		require.False(t, numericLastLabel(h), h)
	}
}
