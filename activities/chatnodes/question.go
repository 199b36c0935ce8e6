package chatnodes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"

	"github.com/flowgate/flowgate/internal/knowledge/extract"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/workflows/node"
)

// question is the question as a chain sees it: the turn's documents first, framed as Flowise
// frames file:full uploads. Stored files are read here, from the storage every process shares,
// so the API that took the upload and the worker that reads it need not be the same machine.
// Images and audio are not text; they stay in storage for the nodes that take them.
func (n *Nodes) question(ctx context.Context, run node.Run) (string, error) {
	// However many files a turn has, reading them costs at most extract.TurnBudget; a turn
	// over it fails for good rather than be read again by each retry.
	ctx, cancel := context.WithTimeoutCause(ctx, extract.TurnBudget, extract.ErrBudget)
	defer cancel()
	docs := run.FilesContent
	for _, u := range run.Uploads {
		if u.Type != node.UploadStored || strings.HasPrefix(u.Mime, "image/") || strings.HasPrefix(u.Mime, "audio/") {
			continue
		}
		text, err := n.uploadText(ctx, run, u)
		if errors.Is(err, extract.ErrUnsupported) {
			n.Logger.Info("uploaded file has no text; the chain does not see it", "file", u.Name, "mime", u.Mime)
			continue
		}
		if err != nil {
			return "", err
		}
		docs += node.FileDoc(u.Name, text)
	}
	if docs == "" {
		return run.Question, nil
	}
	return docs + "\n\n" + run.Question, nil
}

func (n *Nodes) uploadText(ctx context.Context, run node.Run, u node.Upload) (string, error) {
	key, err := storage.Key(run.ChatflowID, run.ChatID, u.Name)
	if err != nil {
		return "", nodekit.FlowError("uploaded file %q: %v", u.Name, err)
	}
	r, obj, err := n.Files.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nodekit.FlowError("uploaded file %q is no longer in storage", u.Name)
	}
	if err != nil {
		// Storage being away is worth another attempt.
		return "", fmt.Errorf("read uploaded file %q: %w", u.Name, err)
	}
	defer r.Close()
	text, err := extract.Text(ctx, u.Name, u.Mime, r, obj.Size)
	switch {
	case err == nil, errors.Is(err, extract.ErrUnsupported):
		return text, err
	case errors.Is(err, extract.ErrUnreadable), errors.Is(err, extract.ErrTooLarge), errors.Is(context.Cause(ctx), extract.ErrBudget):
		// The file is at fault (its message names it and the limit): the caller's problem,
		// and another attempt would only parse it again.
		return "", nodekit.InvalidError("%v", cmp.Or(context.Cause(ctx), err))
	default:
		// Storage went away mid-read, or no extraction process could be started.
		return "", fmt.Errorf("read uploaded file %q: %w", u.Name, err)
	}
}
