package offload_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/internal/storage/offload"
)

type doc struct {
	Name string `json:"name"`
	Body string `json:"body"`
}

func newCodec(t *testing.T) (*offload.Codec, *storage.Local) {
	t.Helper()
	store, err := storage.NewLocal(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	return &offload.Codec{Store: store, Threshold: 1024}, store
}

func encoding(p *commonpb.Payload) string { return string(p.GetMetadata()[converter.MetadataEncoding]) }

// refKey is the storage key an offloaded payload points at.
func refKey(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	var ref struct {
		Key string `json:"key"`
	}
	require.NoError(t, json.Unmarshal(p.GetData(), &ref))
	return ref.Key
}

func TestLargeValueTravelsAsReference(t *testing.T) {
	codec, store := newCodec(t)
	dc := codec.DataConverter()
	big := doc{Name: "report", Body: strings.Repeat("5 MB of document text. ", 5<<20/23)}

	p, err := dc.ToPayload(big)
	require.NoError(t, err)
	require.Equal(t, offload.Encoding, encoding(p))
	require.Less(t, len(p.GetData()), 200, "the history carries only the reference")

	var back doc
	require.NoError(t, dc.FromPayload(p, &back))
	require.Equal(t, big, back)

	// The same value gives the same reference: a retried activity or a replay writes nothing new.
	again, err := dc.ToPayload(big)
	require.NoError(t, err)
	require.Equal(t, p.GetData(), again.GetData())

	r, obj, err := store.Get(context.Background(), refKey(t, p))
	require.NoError(t, err)
	_ = r.Close()
	require.True(t, strings.HasPrefix(obj.Key, offload.Prefix))
}

func TestSmallValueStaysInline(t *testing.T) {
	codec, _ := newCodec(t)
	p, err := codec.DataConverter().ToPayload(doc{Name: "hi", Body: "short"})
	require.NoError(t, err)
	require.Equal(t, "json/plain", encoding(p))
}

func TestMissingOrTamperedValueIsAnError(t *testing.T) {
	codec, store := newCodec(t)
	dc := codec.DataConverter()
	p, err := dc.ToPayload(doc{Body: strings.Repeat("x", 4096)})
	require.NoError(t, err)
	key := refKey(t, p)
	ctx := context.Background()

	require.NoError(t, store.Put(ctx, key, strings.NewReader(strings.Repeat("y", 4096+20)), -1, ""))
	var out doc
	err = dc.FromPayload(p, &out)
	require.Error(t, err)
	require.Contains(t, err.Error(), key)

	require.NoError(t, store.DeletePrefix(ctx, offload.Prefix))
	err = dc.FromPayload(p, &out)
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.Contains(t, err.Error(), "is gone")

	bad := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(offload.Encoding)}, Data: []byte("{")}
	require.ErrorContains(t, dc.FromPayload(bad, &out), "malformed reference")
}
