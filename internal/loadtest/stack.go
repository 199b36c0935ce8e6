package loadtest

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// Stack is a Deployment with a mock model and the benchmark chatflow set up: everything a load
// run needs.
type Stack struct {
	*Deployment
	Mock   *llmmock.Server
	FlowID string

	ownMock bool
}

// StartStack deploys Flowgate in mode and sets the benchmark chatflow up against mock, or
// against a mock of its own (closed with the stack) when mock is nil.
func StartStack(ctx context.Context, mode string, mock *llmmock.Server, o DeployOptions) (*Stack, error) {
	s := &Stack{Mock: mock}
	if mock == nil {
		m, err := llmmock.Start(llmmock.Options{MaxRecorded: -1})
		if err != nil {
			return nil, fmt.Errorf("start the mock model: %w", err)
		}
		s.Mock, s.ownMock = m, true
	}
	o.ModelURL = s.Mock.URL
	d, err := Deploy(ctx, mode, o)
	if err != nil {
		s.closeMock()
		return nil, fmt.Errorf("start %s: %w", mode, err)
	}
	s.Deployment = d
	if mode == Direct { // it serves its one flow under any id
		s.FlowID = "direct"
		return s, nil
	}
	if s.FlowID, err = (Admin{Base: d.Target, Key: d.Key}).SetUpLLMChain(ctx, s.Mock.URL); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// Close stops the deployment and, if the stack started it, the mock.
func (s *Stack) Close() error {
	err := s.Deployment.Close()
	s.closeMock()
	if err != nil {
		return fmt.Errorf("stop %s: %w", s.Mode, err)
	}
	return nil
}

func (s *Stack) closeMock() {
	if s.ownMock {
		s.Mock.Close()
	}
}
