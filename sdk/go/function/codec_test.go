package function

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/abi"
)

func TestDecodeEventMatchesEncodingJSON(t *testing.T) {
	full := Event{
		Version: "2.0", RouteKey: "POST /orders/{id}", RawPath: "/orders/7", RawQueryString: "a=1&b=%22",
		Cookies: []string{"s=1", "t=\"q\""}, Headers: map[string]string{"x-a": "b\u00e9\n\t\\", "empty": ""},
		QueryStringParameters: map[string]string{"a": "1"}, PathParameters: map[string]string{"id": "7"},
		StageVariables: map[string]string{"env": "prod"},
		RequestContext: abi.RequestContext{
			RequestID: "r1", RouteKey: "POST /orders/{id}", Stage: "$default", Time: "25/Nov/2026:09:00:00 +0000",
			TimeEpoch: 1795000000000, DomainName: "example.com",
			HTTP:       abi.HTTPContext{Method: "POST", Path: "/orders/7", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "ua/1 \U0001F600"},
			Authorizer: &abi.Authorizer{Properties: map[string]string{"auth.principal": "alice"}},
		},
		Body: "{\"x\":\"\u2028\"}", IsBase64Encoded: true,
	}
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"full", mustJSON(t, full)},
		{"empty", `{}`},
		{"nulls", `{"headers":null,"cookies":null,"body":null,"isBase64Encoded":null,"requestContext":{"authorizer":null,"timeEpoch":null}}`},
		{"unknown fields skipped", `{"future":{"a":[1,2.5e3,-1,true,false,null,"x",{}],"b":[]},"version":"2.0"}`},
		{"escapes", `{"body":"\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t","rawPath":"/a"}`},
		{"spaces", " {\n \"version\" : \"2.0\" ,\t\"cookies\" : [ ] } "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var exp Event
			require.NoError(t, json.Unmarshal([]byte(tc.in), &exp))
			var got Event
			require.NoError(t, decodeEvent(tc.in, &got))
			assert.Equal(t, exp, got)
		})
	}
}

func TestDecodeEventErrors(t *testing.T) {
	for _, tc := range []struct {
		in, expErr string
	}{
		{`[]`, "function: decode event at byte 0: expected '{': invalid JSON"},
		{`{"version":1}`, "function: decode event at byte 11: expected a string: invalid JSON"},
		{`{"version":"2.0"`, "function: decode event at byte 16: expected ',' or '}': invalid JSON"},
		{`{"body":"abc`, "function: decode event at byte 12: unterminated string: invalid JSON"},
		{`{"isBase64Encoded":"yes"}`, "function: decode event at byte 19: expected true or false: invalid JSON"},
		{`{} x`, "function: decode event at byte 3: data after the event: invalid JSON"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var ev Event
			assert.EqualError(t, decodeEvent(tc.in, &ev), tc.expErr)
		})
	}
}

func TestAppendResponseMatchesEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Response
	}{
		{"minimal", Response{StatusCode: 204}},
		{"full", Response{
			StatusCode: 201, Headers: map[string]string{"Content-Type": "application/json", "X-Q": "\"<&>\u0001"},
			MultiValueHeaders: map[string][]string{"X-M": {"a", "b"}}, Cookies: []string{"a=1; Path=/"},
			Body: "line\nnext \xff invalid", IsBase64Encoded: true,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got, exp Response
			require.NoError(t, json.Unmarshal(appendResponse(nil, &tc.in), &got))
			require.NoError(t, json.Unmarshal([]byte(mustJSON(t, tc.in)), &exp))
			assert.Equal(t, exp, got)
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestInvokeBinaryHelpers(t *testing.T) {
	HandleFunc(func(_ context.Context, ev Event) (Response, error) {
		b, err := ev.BodyBytes()
		if err != nil {
			return Response{}, err
		}
		return Binary(200, "application/octet-stream", append(b, 0xff)), nil
	})
	t.Cleanup(func() { registered = nil })
	resp, err := Invoke(Event{Body: "AAE=", IsBase64Encoded: true})
	require.NoError(t, err)
	assert.True(t, resp.IsBase64Encoded)
	assert.Equal(t, "AAH/", resp.Body)
	_, err = Invoke(Event{Body: "%%", IsBase64Encoded: true})
	assert.ErrorContains(t, err, "function: decode base64 request body")
}

// A packed event reaches the handler as the same Event its JSON form does,
// and the answer comes back packed; a packed document that is cut short is an
// error naming the event.
func TestHandlePackedEvent(t *testing.T) {
	var seen []Event
	HandleFunc(func(_ context.Context, ev Event) (Response, error) {
		seen = append(seen, ev)
		return Response{StatusCode: 201, Headers: map[string]string{"X-Path": ev.RawPath}, Cookies: []string{"a=1"}, Body: ev.Body}, nil
	})
	t.Cleanup(func() { registered, seen = nil, nil })
	ev := abi.FunctionEvent{
		Version: "2.0", RawPath: "/p", Headers: map[string]string{"host": "h"}, PathParameters: map[string]string{"id": "7"},
		RequestContext: abi.RequestContext{RequestID: "r1", TimeEpoch: 1795000000000, HTTP: abi.HTTPContext{Method: "GET"}},
		Body:           "b\u00e9",
	}
	out, err := handle(string(abi.AppendPackedEvent(nil, &ev)))
	require.NoError(t, err)
	require.Equal(t, abi.PackedTag, out[0], "a packed event is answered packed")
	var resp abi.FunctionResponse
	require.NoError(t, abi.DecodePackedResponse(string(out), &resp))
	assert.Equal(t, abi.FunctionResponse{StatusCode: 201, Headers: map[string]string{"X-Path": "/p"}, Cookies: []string{"a=1"}, Body: "b\u00e9"}, resp)

	outJSON, err := handle(mustJSON(t, ev))
	require.NoError(t, err)
	require.Equal(t, byte('{'), outJSON[0], "a JSON event is answered in JSON")
	require.Len(t, seen, 2)
	assert.Equal(t, seen[1], seen[0], "both forms give the handler the same event")

	packed := abi.AppendPackedEvent(nil, &ev)
	_, err = handle(string(packed[:len(packed)-3]))
	assert.ErrorContains(t, err, "function: decode event: packed event: value at byte 123 runs past the end of the document")
}

// TestSharedResponseMaps: the SDK only reads a response (Response's doc
// promises it), so handlers may return one package-level headers map with
// every response; it comes back unchanged, in both encodings.
func TestSharedResponseMaps(t *testing.T) {
	shared := map[string]string{"Content-Type": "text/plain"}
	cookies := []string{"a=1"}
	HandleFunc(func(_ context.Context, ev Event) (Response, error) {
		return Response{StatusCode: 200, Headers: shared, Cookies: cookies, Body: ev.RawPath}, nil
	})
	t.Cleanup(func() { registered = nil })
	for _, path := range []string{"/a", "/b"} {
		ev := abi.FunctionEvent{Version: "2.0", RawPath: path}
		out, err := handle(string(abi.AppendPackedEvent(nil, &ev)))
		require.NoError(t, err)
		var resp abi.FunctionResponse
		require.NoError(t, abi.DecodePackedResponse(string(out), &resp))
		assert.Equal(t, abi.FunctionResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain"}, Cookies: []string{"a=1"}, Body: path}, resp)

		outJSON, err := handle(mustJSON(t, ev))
		require.NoError(t, err)
		assert.JSONEq(t, `{"statusCode":200,"headers":{"Content-Type":"text/plain"},"cookies":["a=1"],"body":"`+path+`"}`, string(outJSON))
	}
	assert.Equal(t, map[string]string{"Content-Type": "text/plain"}, shared)
	assert.Equal(t, []string{"a=1"}, cookies)
}

func BenchmarkHandle(b *testing.B) {
	HandleFunc(func(_ context.Context, ev Event) (Response, error) {
		return Text(200, "hello, "+ev.PathParameters["name"]), nil
	})
	b.Cleanup(func() { registered = nil })
	ev := abi.FunctionEvent{
		Version: "2.0", RouteKey: "GET /hello/{name}", RawPath: "/hello/x", Headers: map[string]string{"host": "127.0.0.1:8080", "user-agent": "wrk"},
		PathParameters: map[string]string{"name": "x"},
		RequestContext: abi.RequestContext{RequestID: "0123456789abcdef", RouteKey: "GET /hello/{name}", Stage: "$default",
			Time: "25/Nov/2026:09:00:00 +0000", TimeEpoch: 1795000000000, DomainName: "127.0.0.1:8080",
			HTTP: abi.HTTPContext{Method: "GET", Path: "/hello/x", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "wrk"}},
	}
	for _, form := range []struct {
		name, doc string
	}{{"json", string(must(json.Marshal(&ev)))}, {"packed", string(abi.AppendPackedEvent(nil, &ev))}} {
		b.Run(form.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := handle(form.doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
