package api

import (
	"fmt"
	"strconv"

	"github.com/gin-gonic/gin"
)

// pageParams reads the page and limit query parameters (0 when absent).
func pageParams(c *gin.Context) (page, limit int, err error) {
	for name, dst := range map[string]*int{"page": &page, "limit": &limit} {
		if v := c.Query(name); v != "" {
			n, convErr := strconv.Atoi(v)
			if convErr != nil || n < 0 {
				return 0, 0, fmt.Errorf("%s must be a non-negative whole number, got %q", name, v)
			}
			*dst = n
		}
	}
	return page, limit, nil
}
