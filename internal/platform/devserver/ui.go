package devserver

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	uiapi "github.com/temporalio/ui-server/v2/server/api"
	uiauth "github.com/temporalio/ui-server/v2/server/auth"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uicors "github.com/temporalio/ui-server/v2/server/cors"
	uicsrf "github.com/temporalio/ui-server/v2/server/csrf"
	uiheaders "github.com/temporalio/ui-server/v2/server/headers"
	uiroute "github.com/temporalio/ui-server/v2/server/route"
	uiassets "github.com/temporalio/ui-server/v2/ui"
)

// The Web UI must answer only requests addressed to it by name. It has no login, and a web
// page on any site can make the browser of someone running Flowgate send it requests: the page
// points a name it controls at 127.0.0.1 (DNS rebinding), so to the browser the UI is that
// site, same-origin, and the UI's CSRF defences do not apply. Such a request still carries the
// attacker's name in its Host header, which is what uiHost checks.

// uiServer is the Temporal Web UI, served by this package rather than by uiserver.Server,
// which listens by itself and offers no way to check a request's Host.
type uiServer struct {
	http *http.Server
	addr string
}

// startUI serves the Web UI of the frontend at frontendAddr on ip:port, answering only the
// Hosts that name it (see uiHosts) and extraHosts.
func startUI(ip string, port int, frontendAddr, namespace string, extraHosts []string) (*uiServer, error) {
	h, err := uiHandler(&uiconfig.Config{
		Host:                ip,
		Port:                port,
		TemporalGRPCAddress: frontendAddr,
		EnableUI:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true,
		DefaultNamespace:    namespace,
	})
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(ip, fmt.Sprint(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devserver: web UI (FLOWGATE_TEMPORAL_UI_PORT): %w", err)
	}
	s := &uiServer{
		http: &http.Server{Handler: uiHosts(h, ip, extraHosts), ReadHeaderTimeout: 10 * time.Second},
		addr: l.Addr().String(),
	}
	go func() {
		// The UI is a convenience: when it stops, Temporal and Flowgate go on.
		if err := s.http.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "flowgate: temporal web UI stopped: %v\n", err)
		}
	}()
	return s, nil
}

func (s *uiServer) stop() { _ = s.http.Close() }

// uiHandler is the Web UI as uiserver.NewServer (ui-server v2.55.0) builds it, with its
// logger off. Keep it in step when upgrading ui-server.
func uiHandler(cfg *uiconfig.Config) (http.Handler, error) {
	provider, err := uiconfig.NewConfigProviderWithRefresh(cfg)
	if err != nil {
		return nil, fmt.Errorf("devserver: web UI config: %w", err)
	}
	cookieSecure := !cfg.CORS.CookieInsecure
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	e.Use(middleware.Gzip())
	e.Use(uicors.CORSMiddleware(uicors.CORSConfig{
		AllowHeaders: []string{
			echo.HeaderOrigin, echo.HeaderContentType, echo.HeaderAccept,
			echo.HeaderXCSRFToken, echo.HeaderAuthorization, uiauth.AuthorizationExtrasHeader,
			"Caller-Type",
		},
		AllowCredentials: true,
		ConfigProvider:   provider,
	}))
	e.Use(middleware.Secure())
	e.Use(uicsrf.EnsureTokenCookie(cookieSecure))
	e.Use(middleware.CSRFWithConfig(uicsrf.MiddlewareConfig(provider, cookieSecure)))
	e.Pre(uiroute.PublicPath(cfg.PublicPath))
	uiroute.SetHealthRoute(e)
	forward := uiheaders.WithForwardHeaders([]string{uiauth.AuthorizationExtrasHeader, "Caller-Type"})
	if err := uiroute.SetAPIRoutes(e, provider, []uiapi.Middleware{forward}); err != nil {
		return nil, fmt.Errorf("devserver: web UI: %w", err)
	}
	uiroute.SetAuthRoutes(e, provider)
	assets, err := uiassets.Assets()
	if err != nil {
		return nil, fmt.Errorf("devserver: web UI assets: %w", err)
	}
	if assets, err = fs.Sub(assets, "local"); err != nil {
		return nil, fmt.Errorf("devserver: web UI assets: %w", err)
	}
	uiroute.SetUIRoutes(e, cfg.PublicPath, assets, provider)
	uiroute.SetRenderRoute(e, "/")
	return e, nil
}

// uiHosts lets through to next the requests whose Host names the UI: localhost, the loopback
// addresses, the address it is bound to, and extra (names an operator reaches it by, through a
// tunnel or proxy; FLOWGATE_TEMPORAL_UI_HOSTS). When it is bound to every interface, any IP
// address is its own, and an IP literal cannot be rebound. Others get 403; the port is not
// looked at.
func uiHosts(next http.Handler, bindIP string, extra []string) http.Handler {
	allowed := map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}
	for _, h := range append([]string{bindIP}, extra...) {
		allowed[normalHost(h)] = true
	}
	bind, err := netip.ParseAddr(bindIP)
	anyIP := err == nil && bind.IsUnspecified()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := normalHost(r.Host)
		_, ipErr := netip.ParseAddr(host)
		if !allowed[host] && !(anyIP && ipErr == nil) {
			http.Error(w, "Forbidden: the Temporal Web UI answers only to its own address (see FLOWGATE_TEMPORAL_UI_HOSTS)", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// normalHost is a host as compared: without a port, lower case, without IPv6 brackets or a
// final dot.
func normalHost(h string) string {
	h = strings.TrimSpace(h)
	if name, _, err := net.SplitHostPort(h); err == nil {
		h = name
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}
