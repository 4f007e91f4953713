package abi_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
)

func fullEvent() abi.FunctionEvent {
	return abi.FunctionEvent{
		Version: "2.0", RouteKey: "POST /shop/orders/{id}", RawPath: "/shop/orders/7", RawQueryString: "a=1&a=2",
		Cookies:               []string{"session=abc", "theme=dark"},
		Headers:               map[string]string{"content-type": "application/json", "x-multi": "1,2", "host": "api.example.com"},
		QueryStringParameters: map[string]string{"a": "1,2"},
		PathParameters:        map[string]string{"id": "7"},
		StageVariables:        map[string]string{"table": "orders"},
		RequestContext: abi.RequestContext{
			RequestID: "6f1c", RouteKey: "POST /shop/orders/{id}", Stage: "prod",
			Time: "25/Nov/2026:09:00:00 +0000", TimeEpoch: 1795597200000, DomainName: "api.example.com",
			HTTP:       abi.HTTPContext{Method: "POST", Path: "/shop/orders/7", Protocol: "HTTP/1.1", SourceIP: "203.0.113.9", UserAgent: "curl/8.5"},
			Authorizer: &abi.Authorizer{Properties: map[string]string{"auth.principal": "alice"}},
		},
		Body: "{\"n\":1}",
	}
}

func TestPackedEventRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   func() abi.FunctionEvent
	}{
		{"full", fullEvent},
		{"zero", func() abi.FunctionEvent { return abi.FunctionEvent{} }},
		{"empty but not null", func() abi.FunctionEvent {
			return abi.FunctionEvent{Cookies: []string{}, Headers: map[string]string{}, PathParameters: map[string]string{},
				RequestContext: abi.RequestContext{Authorizer: &abi.Authorizer{Properties: map[string]string{}}}}
		}},
		{"bytes JSON cannot hold raw", func() abi.FunctionEvent {
			ev := fullEvent()
			ev.Body, ev.IsBase64Encoded = "\x00\xff\xfe\"\\\n", true
			ev.Headers["x-ünïcødé"] = "日本語\u2028"
			ev.RequestContext.TimeEpoch = -1
			return ev
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.ev()
			b := abi.AppendPackedEvent([]byte("prefix"), &want)
			require.Equal(t, "prefix", string(b[:6]), "appends")
			require.Equal(t, abi.PackedTag, b[6])
			var got abi.FunctionEvent
			require.NoError(t, abi.DecodePackedEvent(string(b[6:]), &got))
			require.Equal(t, want, got)
		})
	}
}

// TestPackedEventHeaders: headers written by a callback decode as the same
// map AppendPackedEvent writes, and n < 0 is null headers.
func TestPackedEventHeaders(t *testing.T) {
	want := fullEvent()
	pairs := [][2]string{{"content-type", "application/json"}, {"x-multi", "1,2"}, {"host", "api.example.com"}}
	b := abi.AppendPackedEventHeaders(nil, &abi.FunctionEvent{}, 0, func(b []byte) []byte { return b })
	var got abi.FunctionEvent
	require.NoError(t, abi.DecodePackedEvent(string(b), &got))
	assert.Equal(t, map[string]string{}, got.Headers, "n = 0 is an empty map")

	ev := want
	ev.Headers = map[string]string{"ignored": "because headers writes them"}
	b = abi.AppendPackedEventHeaders(nil, &ev, len(pairs), func(b []byte) []byte {
		for _, p := range pairs {
			b = abi.AppendPackedString(abi.AppendPackedString(b, p[0]), p[1])
		}
		return b
	})
	require.NoError(t, abi.DecodePackedEvent(string(b), &got))
	assert.Equal(t, want, got)

	b = abi.AppendPackedEventHeaders(nil, &ev, -1, nil)
	require.NoError(t, abi.DecodePackedEvent(string(b), &got))
	assert.Nil(t, got.Headers, "n < 0 is null headers")
}

func TestPackedResponseRoundTrip(t *testing.T) {
	tests := []abi.FunctionResponse{
		{},
		{StatusCode: 201, Headers: map[string]string{"Content-Type": "application/json"},
			MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}, "X-Empty": {}, "X-Null": nil},
			Cookies:           []string{"session=abc; Path=/"}, Body: "AAH/", IsBase64Encoded: true},
		{StatusCode: -5, Body: "\x00"},
	}
	for _, want := range tests {
		b := abi.AppendPackedResponse(nil, &want)
		var got abi.FunctionResponse
		require.NoError(t, abi.DecodePackedResponse(string(b), &got))
		require.Equal(t, want, got)
	}
}

// A packed event decodes to what the JSON form of the same event decodes to,
// as the host fills events: Headers always set, other maps nil when empty.
func TestPackedEventMatchesJSON(t *testing.T) {
	ev := fullEvent()
	ev.QueryStringParameters = nil
	ev.RequestContext.Authorizer = nil
	js, err := json.Marshal(&ev)
	require.NoError(t, err)
	var fromJSON, fromPacked abi.FunctionEvent
	require.NoError(t, json.Unmarshal(js, &fromJSON))
	require.NoError(t, abi.DecodePackedEvent(string(abi.AppendPackedEvent(nil, &ev)), &fromPacked))
	require.Equal(t, fromJSON, fromPacked)
}

// TestPackedResponseReusesHeaders: decoding into a response that has a
// Headers map refills that map, without keys of the previous response.
func TestPackedResponseReusesHeaders(t *testing.T) {
	var r abi.FunctionResponse
	first := abi.AppendPackedResponse(nil, &abi.FunctionResponse{StatusCode: 200, Headers: map[string]string{"a": "1", "b": "2"}})
	require.NoError(t, abi.DecodePackedResponse(string(first), &r))
	m := r.Headers
	second := abi.AppendPackedResponse(nil, &abi.FunctionResponse{StatusCode: 201, Headers: map[string]string{"c": "3"}})
	require.NoError(t, abi.DecodePackedResponse(string(second), &r))
	assert.Equal(t, map[string]string{"c": "3"}, r.Headers)
	assert.Equal(t, reflect.ValueOf(m).UnsafePointer(), reflect.ValueOf(r.Headers).UnsafePointer(), "the map is reused")
	require.NoError(t, abi.DecodePackedResponse(string(abi.AppendPackedResponse(nil, &abi.FunctionResponse{})), &r))
	assert.Nil(t, r.Headers, "null headers stay null")
}

// Every truncation of a valid document is an error, never a panic or a
// silently short value.
func TestPackedTruncated(t *testing.T) {
	ev := fullEvent()
	b := abi.AppendPackedEvent(nil, &ev)
	for n := range len(b) {
		var got abi.FunctionEvent
		err := abi.DecodePackedEvent(string(b[:n]), &got)
		var perr abi.PackedError
		require.True(t, errors.As(err, &perr), "prefix of %d bytes: %v", n, err)
	}
	r := abi.FunctionResponse{StatusCode: 200, Headers: map[string]string{"a": "b"}, MultiValueHeaders: map[string][]string{"c": {"d"}}, Cookies: []string{"e"}, Body: "f"}
	rb := abi.AppendPackedResponse(nil, &r)
	for n := range len(rb) {
		var got abi.FunctionResponse
		require.Error(t, abi.DecodePackedResponse(string(rb[:n]), &got), "prefix of %d bytes", n)
	}
}

func TestPackedRejects(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"json", `{"statusCode":200}`, "first byte is not the packed tag"},
		{"empty", "", "first byte is not the packed tag"},
		// statusCode, then a headers map claiming 2^31 entries: refused
		// before anything is allocated.
		{"huge map", "\x01\xc8\x00\x00\x00\x00\x00\x00\x80", "count at byte 5 counts more items than the rest of the document can hold"},
		{"huge string", "\x01\xc8\x00\x00\x00\x01\x00\x00\x00\xff\xff\xff\x7fabcd", "value at byte 9 runs past the end of the document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r abi.FunctionResponse
			err := abi.DecodePackedResponse(tt.doc, &r)
			require.ErrorContains(t, err, tt.want)
		})
	}
	events := []struct {
		name, doc, want string
	}{
		{"truncated length", "\x01\x02\x00", "event: value at byte 1 runs past the end of the document"},
		{"huge first string", "\x01\xff\xff\xff\x7fabcd", "event: value at byte 1 runs past the end of the document"},
		{"huge third string", "\x01\x01\x00\x00\x00v\x00\x00\x00\x00\x09\x00\x00\x00/", "event: value at byte 10 runs past the end of the document"},
		{"huge header value", "\x01" + strings.Repeat("\x00\x00\x00\x00", 4) + "\xff\xff\xff\xff" + "\x01\x00\x00\x00" + "\x01\x00\x00\x00k\x09\x00\x00\x00v",
			"event: value at byte 30 runs past the end of the document"},
	}
	for _, tt := range events {
		t.Run("event "+tt.name, func(t *testing.T) {
			var ev abi.FunctionEvent
			err := abi.DecodePackedEvent(tt.doc, &ev)
			require.EqualError(t, err, "packed "+tt.want)
		})
	}
}

// FuzzPackedResponse: the host decodes what a guest wrote, so no input may
// panic or allocate beyond its size, and whatever decodes re-encodes to a
// document that decodes to the same response.
func FuzzPackedResponse(f *testing.F) {
	r := abi.FunctionResponse{StatusCode: 200, Headers: map[string]string{"a": "b"}, MultiValueHeaders: map[string][]string{"c": {"d", "e"}}, Cookies: []string{"f"}, Body: "g", IsBase64Encoded: true}
	f.Add(abi.AppendPackedResponse(nil, &r))
	f.Add([]byte{1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, doc []byte) {
		var got abi.FunctionResponse
		if abi.DecodePackedResponse(string(doc), &got) != nil {
			return
		}
		var again abi.FunctionResponse
		require.NoError(t, abi.DecodePackedResponse(string(abi.AppendPackedResponse(nil, &got)), &again))
		require.Equal(t, got, again)
	})
}

// FuzzPackedEvent: no document may panic the event decoder (a guest runs it
// on whatever the host sends), and what decodes re-encodes to a document
// that decodes to the same event.
func FuzzPackedEvent(f *testing.F) {
	ev := fullEvent()
	f.Add(abi.AppendPackedEvent(nil, &ev))
	f.Add(abi.AppendPackedEvent(nil, &abi.FunctionEvent{}))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var got abi.FunctionEvent
		if abi.DecodePackedEvent(string(doc), &got) != nil {
			return
		}
		var again abi.FunctionEvent
		require.NoError(t, abi.DecodePackedEvent(string(abi.AppendPackedEvent(nil, &got)), &again))
		require.Equal(t, got, again)
	})
}

func BenchmarkPackedEvent(b *testing.B) {
	ev := fullEvent()
	buf := abi.AppendPackedEvent(nil, &ev)
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = abi.AppendPackedEvent(buf[:0], &ev)
		}
	})
	doc := string(buf)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got abi.FunctionEvent
			if err := abi.DecodePackedEvent(doc, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestUnpackerInlines: the decoder's per-string reads must stay inlinable (a
// call costs a Go guest far more in wasm than the read itself); the
// compiler's budget is easy to exceed by one more branch.
func TestUnpackerInlines(t *testing.T) {
	cmd := exec.Command("go", "build", "-gcflags=-m", "-o", os.DevNull, ".")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, fn := range []string{"(*unpacker).str", "(*unpacker).u32"} {
		inlines := regexp.MustCompile(`(?m): can inline ` + regexp.QuoteMeta(fn) + `$`).Match(out)
		assert.True(t, inlines, "%s must stay within the inlining budget; see why with GOOS=wasip1 GOARCH=wasm go build -gcflags=-m=2 ./abi", fn)
	}
}
