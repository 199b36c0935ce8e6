package loadtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// sseResult is what a Flowise event stream told us, with the times events were read.
type sseResult struct {
	firstToken, lastToken time.Time // zero when no token came
	tokens                int
	errorMessage          string // data of an "error" event
	sawError              bool
	ended                 bool // an "end" event came
}

// readSSE reads Flowise's framing until the "end" event or EOF: blocks of lines ended by a
// blank line, where "data:" carries {"event":…,"data":…} and other lines ("message:", "id:",
// ":heartbeat" comments) carry nothing we measure. now is read as each block completes, so
// token times are when the client could first have shown the token.
func readSSE(r io.Reader, now func() time.Time) (sseResult, error) {
	var res sseResult
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4<<20) // a metadata event with source documents can be long
	var data []byte
	for sc.Scan() {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(line) > 0 {
			if rest, ok := bytes.CutPrefix(line, []byte("data:")); ok {
				if len(data) > 0 {
					data = append(data, '\n') // SSE joins multi-line data with newlines
				}
				data = append(data, rest...)
			}
			continue
		}
		if len(data) == 0 {
			continue // a comment or a block without data
		}
		var ev struct {
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			return res, fmt.Errorf("event is not Flowise JSON: %q: %w", truncate(data, 200), err)
		}
		data = data[:0]
		switch ev.Event {
		case "token":
			at := now()
			if res.tokens == 0 {
				res.firstToken = at
			}
			res.lastToken = at
			res.tokens++
		case "error":
			res.sawError = true
			var msg string
			if json.Unmarshal(ev.Data, &msg) != nil {
				msg = string(ev.Data)
			}
			res.errorMessage = msg
		case "end":
			res.ended = true
			return res, nil
		}
	}
	return res, sc.Err()
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
