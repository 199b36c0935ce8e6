package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/flowgate/flowgate/workflows/node"
)

// maxCheckedFile bounds what `flowgate check` reads of one file: Flowise's exports are a few
// hundred kilobytes; the API refuses bodies beyond its own limit anyway.
const maxCheckedFile = 64 << 20

// errNotAllRun is check's answer when some node of some file does not run: the report says
// which, and the exit status lets a script stop before importing.
var errNotAllRun = errors.New("some nodes would not run")

// check prints, for each exported flow file, every node and whether Flowgate runs it, before
// anything is imported.
func check(paths []string, out io.Writer) error {
	if len(paths) == 0 {
		return errors.New("usage: flowgate check <exported flow.json>...")
	}
	var refused bool
	for _, path := range paths {
		s, agentflow, err := surveyFile(path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		kind := "chatflow"
		if agentflow {
			kind = "agentflow"
		}
		bad := s.Unsupported()
		summary := "every node runs"
		if len(bad) > 0 {
			refused = true
			summary = fmt.Sprintf("%d of %d nodes would not run (kinds: %v)", len(bad), len(s.Nodes), s.UnsupportedKinds())
		}
		fmt.Fprintf(out, "%s: %s, %s\n", filepath.Base(path), kind, summary)
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, n := range s.Nodes {
			verdict := "runs"
			if !n.Runs {
				verdict = "does not run: " + n.Reason
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\n", n.NodeID, n.Kind, verdict)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if refused {
		return errNotAllRun
	}
	return nil
}

// surveyFile reads one exported flow: Flowise's export ({nodes, edges}) or a saved chatflow
// row whose flowData holds it as a string.
func surveyFile(path string) (node.Survey, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return node.Survey{}, false, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxCheckedFile+1))
	if err != nil {
		return node.Survey{}, false, err
	}
	if len(raw) > maxCheckedFile {
		return node.Survey{}, false, fmt.Errorf("larger than %d MiB; is it a flow export?", maxCheckedFile>>20)
	}
	flowData := string(raw)
	if saved, ok := savedFlowData(raw); ok {
		flowData = saved
	}
	agentflow := node.LooksLikeAgentflow(flowData)
	s, err := node.SurveyFlow(flowData, agentflow)
	return s, agentflow, err
}

// savedFlowData returns the flowData of a chatflow as the API answers it (GET
// /api/v1/chatflows/:id), whose flowData is a JSON string.
func savedFlowData(raw []byte) (string, bool) {
	var saved struct {
		FlowData *string `json:"flowData"`
	}
	if json.Unmarshal(raw, &saved) != nil || saved.FlowData == nil {
		return "", false
	}
	return *saved.FlowData, true
}
