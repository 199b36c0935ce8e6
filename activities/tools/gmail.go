package tools

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// gmailBase is the Gmail API; GMAIL_API_BASE_URL replaces it.
const gmailBase = "https://gmail.googleapis.com"

// Gmail sends one email through the Gmail API with the tool's OAuth2 credential
// (gmailOAuth2: access_token). Flowgate does not refresh the token; an expired one fails the
// call with Gmail's 401, which is not retried.
func (t *Tools) Gmail() Tool {
	return Tool{
		Offer: fixed("gmail", "Send an email with Gmail.",
			`{"type":"object","properties":{"to":{"type":"string"},"subject":{"type":"string"},"body":{"type":"string"}},"required":["to","subject","body"]}`),
		Run: t.gmailSend,
	}
}

func (t *Tools) gmailSend(ctx context.Context, req node.ToolRequest) (string, error) {
	// Flowise's Gmail tool also drafts, lists and labels; this one only sends.
	cfg := config(req)
	if kind := nodekit.ConfigString(cfg, "gmailType"); kind != "" && (kind != "messages" || !slices.Contains(nodekit.StringList(cfg["messageActions"]), "sendMessage")) {
		return "", nodekit.FlowError("gmail: only sending messages is supported (gmailType messages, action sendMessage)")
	}
	args, err := callArgs(req.Call)
	if err != nil {
		return "", err
	}
	to, _ := args["to"].(string)
	subject, _ := args["subject"].(string)
	body, _ := args["body"].(string)
	if strings.TrimSpace(to) == "" {
		return "", nodekit.FlowError("gmail: no recipient")
	}
	secret, err := t.Secret(ctx, setting(req, "credential"))
	if err != nil {
		return "", err
	}
	token := secret["access_token"]
	if token == "" {
		return "", nodekit.FlowError("gmail: the credential has no access_token")
	}
	// RFC 822 headers must not carry line breaks a value could inject.
	clean := func(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
	mail := "To: " + clean(to) + "\r\nSubject: " + clean(subject) + "\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + body
	payload, err := json.Marshal(map[string]string{"raw": base64.URLEncoding.EncodeToString([]byte(mail))})
	if err != nil {
		return "", err
	}
	target := strings.TrimRight(cmp.Or(os.Getenv("GMAIL_API_BASE_URL"), gmailBase), "/") + "/gmail/v1/users/me/messages/send"
	status, _, out, err := t.Send(ctx, http.MethodPost, target,
		map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}, string(payload))
	if err != nil {
		return "", nodekit.Annotate(err, "gmail")
	}
	if status >= 400 {
		return "", apiStatusError("gmail", status)
	}
	var sent struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(out, &sent)
	return fmt.Sprintf("Email sent to %s (message %s)", to, sent.ID), nil
}
