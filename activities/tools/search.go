package tools

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// webSearch is a search API that takes the query, and the credential's keys, in its URL.
type webSearch struct {
	tool, baseEnv, base string
	keys                []string // the credential fields the API needs
	query               func(q string, secret map[string]string) url.Values
}

// search sends the call's query ("input") and returns the API's JSON answer. Errors name the
// host, never the query string that carries the key.
func (t *Tools) search(ctx context.Context, req node.ToolRequest, ws webSearch) ([]byte, error) {
	args, err := callArgs(req.Call)
	if err != nil {
		return nil, err
	}
	query, _ := args["input"].(string)
	secret, err := t.Secret(ctx, setting(req, "credential"))
	if err != nil {
		return nil, err
	}
	for _, k := range ws.keys {
		if secret[k] == "" {
			return nil, nodekit.FlowError("%s: the credential needs %s", ws.tool, strings.Join(ws.keys, " and "))
		}
	}
	u, err := url.Parse(cmp.Or(os.Getenv(ws.baseEnv), ws.base))
	if err != nil {
		return nil, nodekit.FlowError("%s: invalid base URL: %v", ws.tool, err)
	}
	u.RawQuery = ws.query(query, secret).Encode()
	status, _, body, err := t.Send(ctx, http.MethodGet, u.String(), nil, "")
	if err != nil {
		return nil, nodekit.Annotate(err, "%s", ws.tool)
	}
	if status != http.StatusOK {
		return nil, apiStatusError(ws.tool, status)
	}
	return body, nil
}

// apiStatusError is a tool's API answering with an error status: a request it refuses (bad
// key, bad query) is the flow's to fix and the model's to read; a timeout, a rate limit or a
// server error may pass, so Temporal retries it.
func apiStatusError(tool string, status int) error {
	if status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
		return nodekit.FlowError("%s: the API answered HTTP %d", tool, status)
	}
	return fmt.Errorf("%s: the API answered HTTP %d", tool, status)
}

// searchResult is one hit as both search APIs describe it.
type searchResult struct {
	Title   string `json:"title"`
	Link    string `json:"link"`
	Snippet string `json:"snippet"`
}
