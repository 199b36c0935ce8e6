package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/platform/flowiseimport"
	"github.com/flowgate/flowgate/models"
)

// exportImport serves Flowise's workspace export and import (Settings → Export / Import) in
// Flowise's file format. Unlike Flowise, an import keeps the file's ids: a row already here is
// updated, or left alone when equal, so importing a file twice changes nothing, and a flow keeps
// the URL its clients call. History (chat messages, feedback, leads, executions) is only added
// to: a row already here under an id is left as it is.
type exportImport struct {
	store *models.Store
	limit int64 // FLOWISE_FILE_SIZE_LIMIT: the file is the body
	log   *slog.Logger
	// importing is held while an import runs: one at a time, as each reads and writes whole
	// tables and holds the file in memory.
	importing sync.Mutex
}

// maxExportRequest bounds an export request's body: an object of a few booleans.
const maxExportRequest = 4 << 10

func (h *exportImport) routes(_, v1 *gin.RouterGroup) {
	v1.POST("/export-import/export", h.export)
	v1.POST("/export-import/import", h.importFile)
}

func (h *exportImport) export(c *gin.Context) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxExportRequest+1))
	if err != nil {
		failBody(c, err)
		return
	}
	if len(body) > maxExportRequest {
		fail(c, http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", maxExportRequest)
		return
	}
	sel, err := flowiseimport.ParseSelection(body)
	if err != nil {
		fail(c, http.StatusBadRequest, "Error: exportImportService.convertExportInput - %v", err)
		return
	}
	out, err := flowiseimport.Export(c, h.store.DB(), sel)
	if err != nil {
		failErrOf(c, h.log, "Export", "", err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// importCount is one kind's line of the import's answer: a Flowgate extension beside
// Flowise's {"message":"success"}.
type importCount struct {
	Kind      string `json:"kind"`
	New       int    `json:"new"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
}

func (h *exportImport) importFile(c *gin.Context) {
	if !h.importing.TryLock() {
		fail(c, http.StatusTooManyRequests, "Error: exportImportService.importAll - another import is running; try again when it is done")
		return
	}
	defer h.importing.Unlock()
	data, err := flowiseimport.ParseExport(c.Request.Body, h.limit)
	if err != nil {
		failBody(c, err)
		return
	}
	rep, err := flowiseimport.Apply(c, flowiseimport.Destination{DB: h.store.DB(), KeepHistory: true}, data, false)
	if errors.Is(err, flowiseimport.ErrConflict) {
		fail(c, http.StatusConflict, "Error: exportImportService.importAll - %v", err)
		return
	}
	if err != nil {
		failErrOf(c, h.log, "Import", "", err)
		return
	}
	counts := make([]importCount, len(rep.Counts))
	for i, n := range rep.Counts {
		counts[i] = importCount(n)
	}
	c.JSON(http.StatusOK, gin.H{"message": "success", "imported": counts, "skipped": rep.Skipped, "notes": rep.Notes})
}

// failBody answers a body that cannot be read: 413 past the size limit, else 400 with why.
func failBody(c *gin.Context, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		fail(c, http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", tooBig.Limit)
		return
	}
	fail(c, http.StatusBadRequest, "Error: exportImportService.importAll - %v", err)
}
