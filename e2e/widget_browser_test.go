package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/fixture"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// The browser test: Flowise's own chat widget (flowise-embed, as npm ships it) on a page of one
// loopback origin, talking to Flowgate on another, in Debian's Chromium driven by
// playwright-core. e2e/widget holds the page, the driver (drive.mjs) and the pinned npm
// packages; .ci/run installs Chromium and runs npm ci there.

// widgetDir is the driver's directory, relative to this package.
const widgetDir = "widget"

// embedVersion is the flowise-embed release the test is about; node_modules holding another
// (a stale install) counts as missing, so the test never passes against the wrong widget.
const embedVersion = "3.1.6"

// What the chatflow's chatbotConfig says (welcome message, starter prompt) and what the visitor
// does: two questions in one chat, then a thumbs up with a reason.
const (
	widgetWelcome  = "Welcome to the Flowgate widget test: ask me anything."
	widgetPrompt   = "What can you do?"
	widgetQuestion = "My name is Ada and I like tea."
	widgetFollowUp = "What did I just tell you?"
	widgetFeedback = "Spot on: it remembered me."
	refusalMessage = "This site is not allowed to access this chatbot" // Flowise's default
)

// widgetTools finds Chromium, node and the driver's npm packages. Missing ones skip the test on
// a developer's machine, with the command that installs them; under CI (CI=true) they fail it,
// so a CI machine without a browser can never pass by skipping.
func widgetTools(t *testing.T) (node, chromium string) {
	t.Helper()
	var missing []string
	chromium = os.Getenv("CHROMIUM_PATH")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, fmt.Sprintf("Chromium at %s (apt-get install chromium)", chromium))
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node (Node.js 20 or later)")
	}
	var embed struct{ Version string }
	raw, err := os.ReadFile(filepath.Join(widgetDir, "node_modules", "flowise-embed", "package.json"))
	if err == nil {
		err = json.Unmarshal(raw, &embed)
	}
	_, errPW := os.Stat(filepath.Join(widgetDir, "node_modules", "playwright-core", "package.json"))
	if err != nil || errPW != nil || embed.Version != embedVersion {
		missing = append(missing, fmt.Sprintf("flowise-embed %s and playwright-core in e2e/widget/node_modules (cd e2e/widget && npm ci)", embedVersion))
	}
	if len(missing) > 0 {
		msg := "the browser test needs " + strings.Join(missing, ", ") + "; .ci/run installs them"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return node, chromium
}

// widgetReport is what drive.mjs prints: what the visitor saw and every request the pages made
// to Flowgate.
type widgetReport struct {
	OK                bool       `json:"ok"`
	Error             string     `json:"error"`
	Allowed           *widgetRun `json:"allowed"`
	Refused           *widgetRun `json:"refused"`
	Network           []widgetCall
	Console           []string `json:"console"`
	FailureScreenshot string   `json:"failureScreenshot"`
	FailureMarkup     string   `json:"failureMarkup"` // the widget's shadow DOM when a step failed
}

type widgetRun struct {
	ChatbotConfigOutcome string   `json:"chatbotConfigOutcome"` // the page's own call: a status or an error
	Welcome              string   `json:"welcome"`
	StarterPrompts       []string `json:"starterPrompts"`
	Turns                []struct {
		Question, Reply string
	} `json:"turns"`
	Messages []struct {
		Role, Text string
	} `json:"messages"`
	// Feedback and FeedbackUpdate are the widget's calls after the thumbs up: the rating,
	// then the reason the visitor typed into the dialog that follows.
	Feedback, FeedbackUpdate *struct {
		Status        int
		Body, Failure string
	}
	Screenshot string `json:"screenshot"`
}

type widgetCall struct {
	Page, Method, Path, ContentType, Body, Failure string
	Status                                         int
}

// calls lists the requests one page made with method to a path ending in suffix.
func (r *widgetReport) calls(page, method, suffix string) []widgetCall {
	var out []widgetCall
	for _, c := range r.Network {
		if c.Page == page && c.Method == method && strings.HasSuffix(c.Path, suffix) {
			out = append(out, c)
		}
	}
	return out
}

// servePage serves the page and the widget's bundle from an origin of their own: another
// loopback port, which a browser treats as another site's origin.
func servePage(t *testing.T) *httptest.Server {
	t.Helper()
	html, err := os.ReadFile(filepath.Join(widgetDir, "page.html"))
	require.NoError(t, err)
	bundle, err := os.ReadFile(filepath.Join(widgetDir, "node_modules", "flowise-embed", "dist", "web.js"))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(html)
	})
	mux.HandleFunc("GET /web.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(bundle)
	})
	// Browsers ask every site for an icon; a 404 would only add noise to the console log.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// widgetArtifacts is where the screenshots and the driver's report go: a stable, git-ignored
// directory beside the driver (or FLOWGATE_WIDGET_ARTIFACTS), kept after the test so CI can
// upload it and a developer can look.
func widgetArtifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FLOWGATE_WIDGET_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(widgetDir, "artifacts")
	}
	dir, err := filepath.Abs(dir)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	// Last run's pictures would pass for this run's.
	for _, name := range []string{"widget.png", "widget-refused.png", "widget-failure.png", "widget-failure.html", "report.json"} {
		require.NoError(t, os.RemoveAll(filepath.Join(dir, name)))
	}
	return dir
}

// runDriver runs drive.mjs under a deadline and returns its report. The driver runs in a
// process group of its own so that at the deadline Chromium, its child, dies with it.
func runDriver(t *testing.T, node, chromium, artifacts string, env map[string]string) widgetReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "drive.mjs")
	cmd.Dir = widgetDir
	cmd.Env = append(os.Environ(), "CHROMIUM_PATH="+chromium, "WIDGET_ARTIFACTS="+artifacts, "WIDGET_TOTAL_MS=240000")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second // a grandchild holding the pipes must not hold the test
	runErr := cmd.Run()
	require.NoError(t, os.WriteFile(filepath.Join(artifacts, "report.json"), stdout.Bytes(), 0o644))

	var report widgetReport
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("the driver printed no report (%v, run: %v)\nstdout:\n%s\nstderr:\n%s", err, runErr, stdout.String(), stderr.String())
	}
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		t.Fatalf("run the driver: %v\nstderr:\n%s", runErr, stderr.String())
	}
	if !report.OK {
		t.Fatalf("the widget did not get through: %s\nfailure screenshot: %s, markup: %s\nreport: %s\nbrowser console:\n%s\nstderr:\n%s",
			report.Error, report.FailureScreenshot, report.FailureMarkup, filepath.Join(artifacts, "report.json"),
			strings.Join(report.Console, "\n"), stderr.String())
	}
	return report
}

func TestWidgetInABrowser(t *testing.T) {
	node, chromium := widgetTools(t)
	artifacts := widgetArtifacts(t)
	h := newHarness(t)

	// A mock that quotes the chat's first question in every later answer: the second answer on
	// screen then shows whether Flowgate gave the model the chat's memory.
	mock := llmmock.NewTestServer(t, llmmock.Options{Recall: true})
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-widget"})
	flowData, _, err := llmmock.PointFlow(fixture.Read(t, "flows", "conversation-chain.json"), mock.URL, cred)
	require.NoError(t, err)
	config := func(v map[string]any) string {
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		return string(raw)
	}
	flowID := h.createFlow("widget", flowData, map[string]any{"chatbotConfig": config(map[string]any{
		"welcomeMessage": widgetWelcome,
		"starterPrompts": map[string]any{"0": map[string]any{"prompt": widgetPrompt}},
		"chatFeedback":   map[string]any{"status": true},
	})})
	refusedID := h.createFlow("widget elsewhere", flowData, map[string]any{"chatbotConfig": config(map[string]any{
		"welcomeMessage": widgetWelcome,
		"allowedOrigins": []string{"https://other.example"},
	})})

	pages := servePage(t)
	require.NotEqual(t, pages.URL, h.base, "the page and Flowgate must be two origins")
	pageFor := func(id string) string {
		return pages.URL + "/?" + url.Values{"chatflowid": {id}, "apiHost": {h.base}}.Encode()
	}
	questions, err := json.Marshal([]string{widgetQuestion, widgetFollowUp})
	require.NoError(t, err)

	report := runDriver(t, node, chromium, artifacts, map[string]string{
		"WIDGET_API_HOST":     h.base,
		"WIDGET_PAGE":         pageFor(flowID),
		"WIDGET_REFUSED_PAGE": pageFor(refusedID),
		"WIDGET_QUESTIONS":    string(questions),
		"WIDGET_FEEDBACK":     widgetFeedback,
	})
	t.Logf("screenshots: %s, %s; the driver's report: %s", report.Allowed.Screenshot, report.Refused.Screenshot, filepath.Join(artifacts, "report.json"))
	for _, line := range report.Console {
		t.Log("browser console: " + line)
	}

	t.Run("welcome message and starter prompt from chatbotConfig", func(t *testing.T) {
		require.Equal(t, "200", report.Allowed.ChatbotConfigOutcome, "the page's GET public-chatbotConfig")
		require.Equal(t, widgetWelcome, report.Allowed.Welcome)
		require.Equal(t, []string{widgetPrompt}, report.Allowed.StarterPrompts, "the widget reads starter prompts from public-chatbotConfig itself")
	})

	t.Run("two streamed answers, the second with the first turn's memory", func(t *testing.T) {
		require.Len(t, report.Allowed.Turns, 2)
		require.Equal(t, llmmock.AnswerRecalling(widgetQuestion), report.Allowed.Turns[0].Reply)
		require.Equal(t, llmmock.AnswerRecalling(widgetQuestion, widgetFollowUp), report.Allowed.Turns[1].Reply)
		// The widget streams only when GET chatflows-streaming says the flow can; then its
		// predictions are answered as server-sent events.
		predictions := report.calls("allowed", "POST", "/api/v1/prediction/"+flowID)
		require.Len(t, predictions, 2)
		for _, p := range predictions {
			require.Equal(t, 200, p.Status, "%+v", p)
			require.True(t, strings.HasPrefix(p.ContentType, "text/event-stream"), "the answer streamed: %+v", p)
		}
		// One chat on screen: the welcome, then question and answer twice.
		var roles []string
		for _, m := range report.Allowed.Messages {
			roles = append(roles, m.Role)
		}
		require.Equal(t, []string{"bot", "user", "bot", "user", "bot"}, roles)

		// And one chat saved: both turns under the same chat id, as the widget sent it.
		var saved []struct{ ID, Role, Content, ChatID string }
		h.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &saved)
		require.Len(t, saved, 4)
		for _, m := range saved {
			require.Equal(t, saved[0].ChatID, m.ChatID)
		}
		require.Equal(t, report.Allowed.Turns[1].Reply, saved[3].Content)
	})

	t.Run("thumbs up and its reason stored as the last answer's feedback", func(t *testing.T) {
		require.NotNil(t, report.Allowed.Feedback)
		require.Equal(t, 200, report.Allowed.Feedback.Status, "POST feedback: %+v", report.Allowed.Feedback)
		require.NotNil(t, report.Allowed.FeedbackUpdate)
		require.Equal(t, 200, report.Allowed.FeedbackUpdate.Status, "PUT feedback: %+v", report.Allowed.FeedbackUpdate)
		var saved []struct{ ID, Role, ChatID string }
		h.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &saved)
		require.Len(t, saved, 4)
		var feedback []struct {
			ID, ChatflowID, ChatID, MessageID, Rating, Content string
		}
		h.doJSON("GET", "/api/v1/feedback/"+flowID, nil, 200, &feedback)
		require.Len(t, feedback, 1)
		require.Equal(t, "THUMBS_UP", feedback[0].Rating)
		require.Equal(t, widgetFeedback, feedback[0].Content)
		require.Equal(t, flowID, feedback[0].ChatflowID)
		require.Equal(t, saved[3].ID, feedback[0].MessageID, "the rated message is the second answer")
		require.Equal(t, "apiMessage", saved[3].Role)
		require.Equal(t, saved[3].ChatID, feedback[0].ChatID)
	})

	t.Run("a chatflow allowing another site refuses the page", func(t *testing.T) {
		require.NotNil(t, report.Refused)
		// The page's own GET public-chatbotConfig is refused too (403, or blocked by CORS).
		outcome := report.Refused.ChatbotConfigOutcome
		require.True(t, outcome == "403" || strings.Contains(outcome, "Failed to fetch"), "public-chatbotConfig: %s", outcome)
		predictions := report.calls("refused", "POST", "/api/v1/prediction/"+refusedID)
		require.Len(t, predictions, 1)
		p := predictions[0]
		// A refusal reaches the page one of two ways: Flowise 3.1's CORS answer leaves the
		// origin out, so the browser blocks the call; Flowgate names the origin and answers
		// 403 with the refusal, which the widget can then read and show. Both keep the page
		// from the chatflow; the readable one must say why.
		require.True(t, p.Status == http.StatusForbidden || p.Failure != "", "the prediction was refused: %+v", p)
		reply := report.Refused.Turns[0].Reply
		require.NotContains(t, reply, "MOCK ANSWER")
		if p.Status == http.StatusForbidden {
			require.Contains(t, p.Body, refusalMessage)
			require.Contains(t, reply, refusalMessage, "the widget shows the refusal")
		}
		// The model was never asked and nothing was saved.
		require.Equal(t, 2, mock.Calls(), "only the allowed page's two questions reached the model")
		var saved []map[string]any
		h.doJSON("GET", "/api/v1/chatmessage/"+refusedID, nil, 200, &saved)
		require.Empty(t, saved)
	})

	t.Run("screenshots kept", func(t *testing.T) {
		for _, shot := range []string{report.Allowed.Screenshot, report.Refused.Screenshot} {
			raw, err := os.ReadFile(shot)
			require.NoError(t, err)
			require.True(t, bytes.HasPrefix(raw, []byte("\x89PNG\r\n\x1a\n")), "%s is a PNG", shot)
		}
	})
}
