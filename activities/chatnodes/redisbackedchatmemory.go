package chatnodes

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// RedisBackedChatMemory loads a session's history from Redis, where Flowise keeps it: a list
// under the session id, newest first (LPUSH), each entry a LangChain stored message
// ({"type":"human"|"ai","data":{"content":…}}). The credential is a redisCacheUrlApi
// (redisUrl) or a redisCacheApi (host, port, user, password, TLS), or the node's inputs hold
// those fields. windowSize keeps that many of the newest messages (Flowise's LRANGE with a
// negative start on a list pushed at its head returns the oldest ones instead; the newest are
// what a window means). The chain appends the turn once it has answered (remember), and
// sessionTTL, when set, makes the session expire that many seconds after its last turn.
func (n *Nodes) RedisBackedChatMemory(ctx context.Context, req node.Request) (node.Value, error) {
	d := req.Node.Data
	sessionID := cmp.Or(req.Run.SessionID, req.Node.Input("sessionId"))
	r := &node.RedisMemory{CredentialID: credentialID(req.Node), URL: req.Node.Input("redisUrl"), Key: sessionID,
		ChatflowID: req.Run.ChatflowID, NodeID: req.Node.ID}
	if s := req.Node.Input("sessionTTL"); s != "" {
		ttl, err := strconv.Atoi(s)
		if err != nil || ttl < 0 {
			return node.Value{}, nodekit.FlowError("%s: sessionTTL must be a whole number of seconds, got %q", req.Node.ID, s)
		}
		r.TTL = ttl
	}
	window := 0
	if s := req.Node.Input("windowSize"); s != "" {
		k, err := strconv.Atoi(s)
		if err != nil || k < 1 {
			return node.Value{}, nodekit.FlowError("%s: windowSize must be a positive whole number, got %q", req.Node.ID, s)
		}
		window = k
	}
	client, err := n.redisClient(ctx, r)
	if err != nil {
		return node.Value{}, err
	}
	defer client.Close()
	stop := int64(-1)
	if window > 0 {
		stop = int64(window - 1)
	}
	raw, err := client.LRange(ctx, r.Key, 0, stop).Result()
	if err != nil {
		return node.Value{}, fmt.Errorf("%s: read the session from Redis: %w", req.Node.ID, err)
	}
	msgs := slices.Clone(req.Run.History)
	for _, entry := range slices.Backward(raw) {
		var m struct {
			Type string `json:"type"`
			Data struct {
				Content string `json:"content"`
			} `json:"data"`
		}
		if json.Unmarshal([]byte(entry), &m) != nil {
			continue // not a stored message: another program's entry
		}
		role := models.RoleUser
		if m.Type == "ai" {
			role = models.RoleAPI
		}
		msgs = append(msgs, node.Message{Role: role, Content: m.Data.Content})
	}
	return node.Value{Kind: d.Name, Memory: &node.Memory{Label: cmp.Or(d.Label, d.Name), SessionID: sessionID,
		MemoryKey: cmp.Or(req.Node.Input("memoryKey"), "chat_history"), Messages: msgs, Redis: r}}, nil
}

// remember appends a turn to a Redis-backed memory, as Flowise's chains do once they have
// answered; other memories are the chat_message table, which the workflow's save writes.
func (n *Nodes) remember(ctx context.Context, mem *node.Memory, question, answer string) error {
	if mem == nil || mem.Redis == nil {
		return nil
	}
	client, err := n.redisClient(ctx, mem.Redis)
	if err != nil {
		return err
	}
	defer client.Close()
	human, _ := json.Marshal(storedMessage("human", question))
	ai, _ := json.Marshal(storedMessage("ai", answer))
	pipe := client.TxPipeline()
	pipe.LPush(ctx, mem.Redis.Key, human)
	pipe.LPush(ctx, mem.Redis.Key, ai)
	if mem.Redis.TTL > 0 {
		pipe.Expire(ctx, mem.Redis.Key, time.Duration(mem.Redis.TTL)*time.Second)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("save the turn to Redis: %w", err)
	}
	return nil
}

// storedMessage is a LangChain message as its toDict() writes it.
func storedMessage(typ, content string) map[string]any {
	data := map[string]any{"content": content, "additional_kwargs": map[string]any{}, "response_metadata": map[string]any{}}
	if typ == "ai" {
		data["tool_calls"], data["invalid_tool_calls"] = []any{}, []any{}
	}
	return map[string]any{"type": typ, "data": data}
}

// redisClient connects to the memory's Redis, from its credential or the node's own fields.
func (n *Nodes) redisClient(ctx context.Context, r *node.RedisMemory) (*redis.Client, error) {
	nodeID := cmp.Or(r.NodeID, "memory")
	secret, err := n.Secret(ctx, r.CredentialID)
	if err != nil {
		return nil, err
	}
	own, err := n.SecretInput(ctx, r.ChatflowID, nodeID, "redisUrl", r.URL)
	if err != nil {
		return nil, err
	}
	if url := cmp.Or(secret["redisUrl"], own); url != "" {
		opts, err := redis.ParseURL(url)
		if err != nil {
			// The parser's error may quote the address, password included.
			return nil, nodekit.FlowError("%s: redisUrl is not a redis:// or rediss:// URL", nodeID)
		}
		return redis.NewClient(opts), nil
	}
	host := secret["redisCacheHost"]
	if host == "" {
		return nil, nodekit.CredentialError("%s: the Redis credential has neither redisUrl nor redisCacheHost", nodeID)
	}
	opts := &redis.Options{Addr: net.JoinHostPort(host, cmp.Or(secret["redisCachePort"], "6379")),
		Username: secret["redisCacheUser"], Password: secret["redisCachePwd"]}
	if v := secret["redisCacheSslEnabled"]; v == "true" {
		opts.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	return redis.NewClient(opts), nil
}
