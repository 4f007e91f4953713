package cache

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKeyFormat(t *testing.T) {
	k := Key("GET", "/v1/items", url.Values{"a": {"1"}}, nil, nil, nil)
	assert.Regexp(t, regexp.MustCompile(`^/v1/items\|GET\|[0-9a-f]{64}$`), k)
}

func TestKeyStability(t *testing.T) {
	type req struct {
		method string
		path   string
		query  string
		selQ   []string
		header http.Header
		selH   []string
	}
	tests := []struct {
		name  string
		a, b  req
		equal bool
	}{
		{"param order", req{"GET", "/p", "a=1&b=2", nil, nil, nil}, req{"GET", "/p", "b=2&a=1", nil, nil, nil}, true},
		{"selection order", req{"GET", "/p", "a=1&b=2", []string{"a", "b"}, nil, nil}, req{"GET", "/p", "a=1&b=2", []string{"b", "a", "a"}, nil, nil}, true},
		{"unselected params ignored", req{"GET", "/p", "a=1&utm=x", []string{"a"}, nil, nil}, req{"GET", "/p", "a=1&utm=y", []string{"a"}, nil, nil}, true},
		{"empty selection ignores query", req{"GET", "/p", "a=1", []string{}, nil, nil}, req{"GET", "/p", "a=2", []string{}, nil, nil}, true},
		{"nil selection uses all params", req{"GET", "/p", "a=1", nil, nil, nil}, req{"GET", "/p", "a=2", nil, nil, nil}, false},
		{"selected param value", req{"GET", "/p", "a=1", []string{"a"}, nil, nil}, req{"GET", "/p", "a=2", []string{"a"}, nil, nil}, false},
		{"absent vs empty", req{"GET", "/p", "", []string{"a"}, nil, nil}, req{"GET", "/p", "a=", []string{"a"}, nil, nil}, false},
		{"repeated value order matters", req{"GET", "/p", "a=1&a=2", nil, nil, nil}, req{"GET", "/p", "a=2&a=1", nil, nil, nil}, false},
		{"no field boundary confusion", req{"GET", "/p", "ab=c", nil, nil, nil}, req{"GET", "/p", "a=bc", nil, nil, nil}, false},
		{"method", req{"GET", "/p", "", nil, nil, nil}, req{"HEAD", "/p", "", nil, nil, nil}, false},
		{"path", req{"GET", "/p", "", nil, nil, nil}, req{"GET", "/q", "", nil, nil, nil}, false},
		{"header name case", req{"GET", "/p", "", nil, http.Header{"Accept-Language": {"en"}}, []string{"accept-language"}},
			req{"GET", "/p", "", nil, http.Header{"Accept-Language": {"en"}}, []string{"ACCEPT-LANGUAGE"}}, true},
		{"selected header value", req{"GET", "/p", "", nil, http.Header{"Accept-Language": {"en"}}, []string{"Accept-Language"}},
			req{"GET", "/p", "", nil, http.Header{"Accept-Language": {"fr"}}, []string{"Accept-Language"}}, false},
		{"unselected header ignored", req{"GET", "/p", "", nil, http.Header{"User-Agent": {"a"}}, []string{"Accept"}},
			req{"GET", "/p", "", nil, http.Header{"User-Agent": {"b"}}, []string{"Accept"}}, true},
		{"query param vs header of same name", req{"GET", "/p", "X=1", []string{"X"}, nil, []string{"X"}},
			req{"GET", "/p", "", []string{"X"}, http.Header{"X": {"1"}}, []string{"X"}}, false},
	}
	key := func(r req) string {
		q, err := url.ParseQuery(r.query)
		if err != nil {
			panic(err)
		}
		return Key(r.method, r.path, q, r.selQ, r.header, r.selH)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ka, kb := key(tc.a), key(tc.b)
			assert.Equal(t, ka, key(tc.a), "same input, same key")
			if tc.equal {
				assert.Equal(t, ka, kb)
			} else {
				assert.NotEqual(t, ka, kb)
			}
		})
	}
}

func TestKeyDoesNotModifySelection(t *testing.T) {
	sel := []string{"b", "a"}
	Key("GET", "/", url.Values{}, sel, nil, nil)
	assert.Equal(t, []string{"b", "a"}, sel)
}
