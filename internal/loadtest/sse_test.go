package loadtest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clock returns 1 s, 2 s, 3 s… on successive calls, so event times are checkable.
func clock() func() time.Time {
	n := 0
	return func() time.Time {
		n++
		return time.Unix(int64(n), 0)
	}
}

func TestReadSSEFlowiseFraming(t *testing.T) {
	body := "message:\ndata:{\"event\":\"start\",\"data\":\"\"}\n\n" +
		":heartbeat\n\n" +
		"message:\ndata:{\"event\":\"token\",\"data\":\"Hel\"}\nid:chat.1\n\n" +
		"message:\r\ndata:{\"event\":\"token\",\"data\":\"lo\"}\r\n\r\n" +
		"message:\ndata:{\"event\":\"metadata\",\"data\":{\"chatId\":\"x\"}}\n\n" +
		"message:\ndata:{\"event\":\"end\",\"data\":\"[DONE]\"}\n\n" +
		"message:\ndata:{\"event\":\"token\",\"data\":\"after end is not read\"}\n\n"
	res, err := readSSE(strings.NewReader(body), clock())
	require.NoError(t, err)
	require.Equal(t, sseResult{firstToken: time.Unix(1, 0), lastToken: time.Unix(2, 0), tokens: 2, ended: true}, res)
}

func TestReadSSEErrorEventAndTruncatedStream(t *testing.T) {
	body := "message:\ndata:{\"event\":\"start\",\"data\":\"\"}\n\n" +
		"message:\ndata:{\"event\":\"error\",\"data\":\"model said no\"}\n\n" +
		"message:\ndata:{\"event\":\"end\",\"data\":\"[DONE]\"}\n\n"
	res, err := readSSE(strings.NewReader(body), clock())
	require.NoError(t, err)
	require.True(t, res.sawError)
	require.Equal(t, "model said no", res.errorMessage)
	require.True(t, res.ended)

	res, err = readSSE(strings.NewReader("message:\ndata:{\"event\":\"token\",\"data\":\"a\"}\n\n"), clock())
	require.NoError(t, err)
	require.False(t, res.ended, "EOF before end")
	require.Equal(t, 1, res.tokens)

	_, err = readSSE(strings.NewReader("data:not json\n\n"), clock())
	require.ErrorContains(t, err, "not Flowise JSON")
}
