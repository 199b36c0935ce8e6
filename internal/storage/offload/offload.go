// Package offload keeps large values out of Temporal workflow history. It is a payload codec:
// a payload bigger than a threshold (documents, file contents, big node outputs) is written to
// storage under its content hash and the history carries only a small reference, which every
// process holding the same codec (API and workers) turns back into the value.
//
// Temporal refuses payloads over 2 MB and histories over 50 MB; with the codec a flow can pass
// a 5 MB document between nodes and the history stays small. The reference is derived from the
// content, so encoding the same value twice (a retried activity, a replay) yields the same
// reference and writes the same object.
package offload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/flowgate/flowgate/internal/storage"
)

// Encoding marks a payload that is a reference to a stored one.
const Encoding = "flowgate/offloaded"

// Prefix is where offloaded payloads live in storage, apart from chat uploads.
const Prefix = "payloads/"

// DefaultThreshold keeps well below Temporal's 2 MB payload limit and its 4 MB gRPC messages,
// which also carry the other payloads of the same call.
const DefaultThreshold = 256 << 10

// Codec offloads payloads above Threshold bytes to Store.
type Codec struct {
	Store     storage.Store
	Threshold int
	// Timeout bounds each storage call; the SDK's codec interface carries no context.
	Timeout time.Duration
}

// reference is the body of an offloaded payload.
type reference struct {
	Key  string `json:"key"`
	Size int    `json:"size"`
}

// DataConverter returns the SDK's default converter wrapped with this codec.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// Encode implements converter.PayloadCodec.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if proto.Size(p) <= c.threshold() {
			out[i] = p
			continue
		}
		ref, err := c.put(p)
		if err != nil {
			return nil, err
		}
		out[i] = ref
	}
	return out, nil
}

// Decode implements converter.PayloadCodec.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		orig, err := c.get(p)
		if err != nil {
			return nil, err
		}
		out[i] = orig
	}
	return out, nil
}

func (c *Codec) put(p *commonpb.Payload) (*commonpb.Payload, error) {
	raw, err := proto.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("offload: marshal payload: %w", err)
	}
	sum := sha256.Sum256(raw)
	ref := reference{Key: Prefix + hex.EncodeToString(sum[:]), Size: len(raw)}
	ctx, cancel := c.context()
	defer cancel()
	if err := c.Store.Put(ctx, ref.Key, bytes.NewReader(raw), int64(len(raw)), "application/x-protobuf"); err != nil {
		return nil, fmt.Errorf("offload: store a %d-byte value: %w", len(raw), err)
	}
	body, err := json.Marshal(ref)
	if err != nil {
		return nil, fmt.Errorf("offload: encode reference: %w", err)
	}
	return &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding)},
		Data:     body,
	}, nil
}

func (c *Codec) get(p *commonpb.Payload) (*commonpb.Payload, error) {
	var ref reference
	if err := json.Unmarshal(p.GetData(), &ref); err != nil || ref.Key == "" {
		return nil, fmt.Errorf("offload: malformed reference %q", p.GetData())
	}
	ctx, cancel := c.context()
	defer cancel()
	r, _, err := c.Store.Get(ctx, ref.Key)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("offload: stored value %s is gone (was storage cleaned while runs used it?): %w", ref.Key, err)
		}
		return nil, fmt.Errorf("offload: read stored value %s: %w", ref.Key, err)
	}
	defer r.Close()
	raw, err := io.ReadAll(io.LimitReader(r, int64(ref.Size)+1))
	if err != nil {
		return nil, fmt.Errorf("offload: read stored value %s: %w", ref.Key, err)
	}
	if len(raw) != ref.Size {
		return nil, fmt.Errorf("offload: stored value %s has %d bytes, want %d", ref.Key, len(raw), ref.Size)
	}
	if sum := sha256.Sum256(raw); Prefix+hex.EncodeToString(sum[:]) != ref.Key {
		return nil, fmt.Errorf("offload: stored value %s does not match its hash", ref.Key)
	}
	var orig commonpb.Payload
	if err := proto.Unmarshal(raw, &orig); err != nil {
		return nil, fmt.Errorf("offload: decode stored value %s: %w", ref.Key, err)
	}
	return &orig, nil
}

func (c *Codec) threshold() int {
	if c.Threshold > 0 {
		return c.Threshold
	}
	return DefaultThreshold
}

func (c *Codec) context() (context.Context, context.CancelFunc) {
	d := c.Timeout
	if d <= 0 {
		d = time.Minute
	}
	return context.WithTimeout(context.Background(), d)
}
