package nodekit

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/flowgate/flowgate/workflows/node"
)

// Flowise's postgres vector store over pgvector: a table of (id, pageContent, metadata jsonb,
// embedding vector) in the node's database, searched by cosine distance. The extension must be
// installable there; where it is not, the node fails with an error that says so.

// pgConnect opens the node's database and makes sure pgvector is there.
func (d *Deps) pgConnect(ctx context.Context, c *node.Component) (*pgx.Conn, string, error) {
	sec, err := d.Secret(ctx, c.CredentialID)
	if err != nil {
		return nil, "", err
	}
	str := func(k string) string { s, _ := c.Inputs[k].(string); return strings.TrimSpace(s) }
	host, db := str("host"), str("database")
	if host == "" || db == "" {
		return nil, "", FlowError("postgres: host and database are required")
	}
	port := 5432
	switch p := c.Inputs["port"].(type) {
	case float64:
		port = int(p)
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			port = n
		}
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(sec["user"], sec["password"]),
		Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: "/" + db}
	q := u.Query()
	q.Set("sslmode", "disable")
	if c.Inputs["ssl"] == true || c.Inputs["ssl"] == "true" {
		q.Set("sslmode", "require")
	}
	u.RawQuery = q.Encode()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, u.String())
	if err != nil {
		return nil, "", fmt.Errorf("postgres %s:%d/%s: %w", host, port, db, err)
	}
	var available bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')`).Scan(&available); err != nil {
		conn.Close(ctx)
		return nil, "", fmt.Errorf("postgres %s:%d/%s: %w", host, port, db, err)
	}
	if !available {
		conn.Close(ctx)
		return nil, "", FlowError("postgres vector store: the database %s at %s:%d does not have the pgvector extension installed "+
			"(https://github.com/pgvector/pgvector), which the postgres vector store needs; install it on that server, "+
			"or keep the documents in a Flowgate document store (documentStoreVS)", db, host, port)
	}
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector`); err != nil {
		conn.Close(ctx)
		return nil, "", FlowError("postgres vector store: pgvector is installed on %s:%d but cannot be enabled in %s: %v", host, port, db, err)
	}
	return conn, pgx.Identifier{cmp.Or(str("tableName"), "documents")}.Sanitize(), nil
}

// PgvectorCheck fails with the clear error when the node's database lacks pgvector.
func (d *Deps) PgvectorCheck(ctx context.Context, c *node.Component) error {
	conn, _, err := d.pgConnect(ctx, c)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// PgvectorAdd embeds docs into the node's table, creating it when missing.
func (d *Deps) PgvectorAdd(ctx context.Context, c *node.Component, docs []node.Document, vecs [][]float32) error {
	conn, table, err := d.pgConnect(ctx, c)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (id uuid PRIMARY KEY, "pageContent" text, metadata jsonb, embedding vector)`); err != nil {
		return fmt.Errorf("postgres: create table: %w", err)
	}
	for i, doc := range docs {
		md, _ := json.Marshal(orEmpty(doc.Metadata))
		if _, err := conn.Exec(ctx, `INSERT INTO `+table+` (id, "pageContent", metadata, embedding) VALUES ($1, $2, $3, $4::vector)`,
			uuid.NewString(), doc.PageContent, string(md), vectorLiteral(vecs[i])); err != nil {
			return fmt.Errorf("postgres: insert: %w", err)
		}
	}
	return nil
}

func (d *Deps) pgSearch(ctx context.Context, r *node.Retriever, q []float32, k int) ([]node.Document, error) {
	conn, table, err := d.pgConnect(ctx, r.Postgres)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	filter, _ := json.Marshal(orEmpty(r.Filter))
	rows, err := conn.Query(ctx, `SELECT "pageContent", metadata FROM `+table+` WHERE metadata @> $1::jsonb ORDER BY embedding <=> $2::vector LIMIT $3`,
		string(filter), vectorLiteral(q), k)
	if err != nil {
		return nil, fmt.Errorf("postgres: search: %w", err)
	}
	defer rows.Close()
	var out []node.Document
	for rows.Next() {
		var doc node.Document
		var md []byte
		if err := rows.Scan(&doc.PageContent, &md); err != nil {
			return nil, fmt.Errorf("postgres: search: %w", err)
		}
		_ = json.Unmarshal(md, &doc.Metadata)
		out = append(out, doc)
	}
	return out, rows.Err()
}

func vectorLiteral(v []float32) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
