package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// Every error uses Flowise's shape; every 503 tells the client when to come back.
func TestFail(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusServiceUnavailable} {
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		fail(c, status, "went %s", "wrong")
		var body errorBody
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		require.Equal(t, errorBody{StatusCode: status, Success: false, Message: "went wrong"}, body)
		if status == http.StatusServiceUnavailable {
			require.Equal(t, "5", rec.Header().Get("Retry-After"))
		} else {
			require.Empty(t, rec.Header().Get("Retry-After"))
		}
	}
}
