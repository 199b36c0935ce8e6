package agentflow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A form reaches the model as Flowise writes it: "key: value" lines in JavaScript's property
// order (array-index keys first, ascending; then the others as sent), values as a template
// string writes them.
func TestFormQuestionIsFlowiseKeyValueLines(t *testing.T) {
	cases := map[string]struct{ form, want string }{
		"order as sent":  {`{"subject":"Order 42","body":"Where is it?","from":"a@b.c"}`, "subject: Order 42\nbody: Where is it?\nfrom: a@b.c"},
		"index keys":     {`{"b":1,"10":"ten","a":2,"2":"two","02":"not an index"}`, "2: two\n10: ten\nb: 1\na: 2\n02: not an index"},
		"scalars":        {`{"n":1.50,"big":1e21,"yes":true,"none":null,"empty":""}`, "n: 1.5\nbig: 1e+21\nyes: true\nnone: null\nempty: "},
		"array, object":  {`{"tags":["x",2,null,["y","z"]],"who":{"name":"Ada"}}`, "tags: x,2,,y,z\nwho: [object Object]"},
		"repeated key":   {`{"a":"first","b":"b","a":"last"}`, "a: last\nb: b"},
		"multi-line":     {`{"body":"line 1\nline 2"}`, "body: line 1\nline 2"},
		"nothing in it":  {`{}`, ""},
		"spaces outside": {" {\"a\" : \"x\"} ", "a: x"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := FormQuestion([]byte(c.form))
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
	for _, bad := range []string{`[1]`, `{"a":}`, `{"a":1`, ``} {
		_, err := FormQuestion([]byte(bad))
		require.Error(t, err, bad)
	}
}
