package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/host/config"
)

// fakePlugin records calls into a shared trace and runs scripted phases.
type fakePlugin struct {
	name       string
	onError    config.OnError
	phases     Phase
	acquireErr error
	run        func(phase Phase, ex *Exchange) (Action, error)
	trace      *[]string
	live       int
}

func (p *fakePlugin) Name() string            { return p.name }
func (p *fakePlugin) OnError() config.OnError { return p.onError }
func (p *fakePlugin) Phases() Phase           { return p.phases }
func (p *fakePlugin) Acquire(context.Context) (Instance, error) {
	if p.acquireErr != nil {
		return nil, p.acquireErr
	}
	p.live++
	return &fakeInstance{p: p}, nil
}

type fakeInstance struct {
	p      *fakePlugin
	faulty bool
}

func (in *fakeInstance) Run(_ context.Context, phase Phase, ex *Exchange) (Action, error) {
	if in.faulty {
		return ActionContinue, errors.New("used after fault")
	}
	*in.p.trace = append(*in.p.trace, in.p.name+":"+phase.String())
	if in.p.run == nil {
		return ActionContinue, nil
	}
	act, err := in.p.run(phase, ex)
	if err != nil {
		in.faulty = true
	}
	return act, err
}

func (in *fakeInstance) Release(context.Context) { in.p.live-- }

const all = PhaseRequestHeaders | PhaseRequestBody | PhaseResponseHeaders | PhaseResponseBody | PhaseLog

func TestChainFlow(t *testing.T) {
	faultIn := func(at Phase) func(Phase, *Exchange) (Action, error) {
		return func(p Phase, _ *Exchange) (Action, error) {
			if p == at {
				return ActionContinue, errors.New("trap")
			}
			return ActionContinue, nil
		}
	}
	respondIn := func(at Phase, status int) func(Phase, *Exchange) (Action, error) {
		return func(p Phase, ex *Exchange) (Action, error) {
			if p == at {
				ex.Header.Set("X-Local", "1")
				ex.Respond(status, []byte("local"))
				return ActionRespond, nil
			}
			return ActionContinue, nil
		}
	}
	tests := []struct {
		name      string
		b         *fakePlugin // the middle plugin; a and c are plain
		expStatus int
		expBody   string
		expNext   bool
		expTrace  string
	}{
		{
			name: "all phases in order", b: &fakePlugin{phases: all},
			expStatus: 200, expBody: "upstream", expNext: true,
			expTrace: "a:on_request_headers b:on_request_headers c:on_request_headers b:on_request_body c:on_response_headers b:on_response_headers a:on_response_headers b:on_response_body a:on_log b:on_log c:on_log",
		},
		{
			name: "short-circuit runs earlier plugins' response phases", b: &fakePlugin{phases: all, run: respondIn(PhaseRequestHeaders, 401)},
			expStatus: 401, expBody: "local",
			expTrace: "a:on_request_headers b:on_request_headers a:on_response_headers a:on_log b:on_log c:on_log",
		},
		{
			name: "deny fault", b: &fakePlugin{phases: all, onError: config.OnErrorDeny, run: faultIn(PhaseRequestHeaders)},
			expStatus: 500, expBody: `{"message":"Internal server error","requestId":"id-1"}`,
			expTrace: "a:on_request_headers b:on_request_headers a:on_log c:on_log",
		},
		{
			name: "allow fault skips the plugin", b: &fakePlugin{phases: all, onError: config.OnErrorAllow, run: faultIn(PhaseRequestHeaders)},
			expStatus: 200, expBody: "upstream", expNext: true,
			expTrace: "a:on_request_headers b:on_request_headers c:on_request_headers c:on_response_headers a:on_response_headers a:on_log c:on_log",
		},
		{
			name: "deny fault in response phase", b: &fakePlugin{phases: all, run: faultIn(PhaseResponseHeaders)},
			expStatus: 500, expNext: true,
			expTrace: "a:on_request_headers b:on_request_headers c:on_request_headers b:on_request_body c:on_response_headers b:on_response_headers a:on_log c:on_log",
		},
		{
			name: "pool busy under deny", b: &fakePlugin{phases: all, acquireErr: fmt.Errorf("wait: %w", ErrBusy)},
			expStatus: 503, expBody: `{"message":"Service unavailable","requestId":"id-1"}`,
			expTrace: "a:on_log",
		},
		{
			name: "acquire failure under allow", b: &fakePlugin{phases: all, onError: config.OnErrorAllow, acquireErr: errors.New("instantiate")},
			expStatus: 200, expBody: "upstream", expNext: true,
			expTrace: "a:on_request_headers c:on_request_headers c:on_response_headers a:on_response_headers a:on_log c:on_log",
		},
		{
			name: "respond from response phase", b: &fakePlugin{phases: all, run: respondIn(PhaseResponseHeaders, 502)},
			expStatus: 502, expBody: "local", expNext: true,
			expTrace: "a:on_request_headers b:on_request_headers c:on_request_headers b:on_request_body c:on_response_headers b:on_response_headers a:on_response_headers b:on_response_body a:on_log b:on_log c:on_log",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var trace []string
			a := &fakePlugin{name: "a", phases: PhaseRequestHeaders | PhaseResponseHeaders | PhaseLog, trace: &trace}
			c := &fakePlugin{name: "c", phases: PhaseRequestHeaders | PhaseResponseHeaders | PhaseLog, trace: &trace}
			tc.b.name, tc.b.trace = "b", &trace
			if tc.b.onError == "" {
				tc.b.onError = config.OnErrorDeny
			}
			nextCalled := false
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				nextCalled = true
				_, _ = io.WriteString(w, "upstream")
			})
			w := httptest.NewRecorder()
			New([]Plugin{a, tc.b, c}, Options{}).Handle(w, httptest.NewRequest("POST", "/", strings.NewReader("body")), &Request{RequestID: "id-1"}, next)
			assert.Equal(t, tc.expStatus, w.Code)
			if tc.expBody != "" {
				assert.Equal(t, tc.expBody, w.Body.String())
			}
			assert.Equal(t, tc.expNext, nextCalled)
			assert.Equal(t, tc.expTrace, strings.Join(trace, " "))
			for _, p := range []*fakePlugin{a, tc.b, c} {
				assert.Zero(t, p.live, "every instance released: %s", p.name)
			}
		})
	}
}

func TestChainBodies(t *testing.T) {
	var trace []string
	p := &fakePlugin{name: "p", phases: PhaseRequestBody | PhaseResponseBody, trace: &trace, run: func(phase Phase, ex *Exchange) (Action, error) {
		switch phase {
		case PhaseRequestBody:
			ex.RequestBody = append(ex.RequestBody[:0], strings.ToUpper(string(ex.RequestBody))...)
		case PhaseResponseBody:
			ex.ResponseBody = append([]byte("<"), append(ex.ResponseBody, '>')...)
		}
		return ActionContinue, nil
	}}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Length", "999") // replaced with the rewritten length
		_, _ = w.Write(b)
	})
	c := New([]Plugin{p}, Options{MaxBodyBytes: 8, MaxResponseBodyBytes: 8})

	w := httptest.NewRecorder()
	c.Handle(w, httptest.NewRequest("POST", "/", strings.NewReader("hello")), &Request{}, next)
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "<HELLO>", w.Body.String())
	assert.Equal(t, "7", w.Header().Get("Content-Length"))

	w = httptest.NewRecorder()
	c.Handle(w, httptest.NewRequest("POST", "/", strings.NewReader("123456789")), &Request{}, next)
	assert.Equal(t, 413, w.Code)

	big := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "0123456789") })
	w = httptest.NewRecorder()
	c.Handle(w, httptest.NewRequest("GET", "/", nil), &Request{}, big)
	assert.Equal(t, 502, w.Code)
}

func TestChainStreamsWithoutBodyPhases(t *testing.T) {
	var trace []string
	p := &fakePlugin{name: "p", phases: PhaseResponseHeaders, trace: &trace, run: func(phase Phase, ex *Exchange) (Action, error) {
		ex.Header.Set("X-Seen", fmt.Sprint(ex.Status))
		return ActionContinue, nil
	}}
	var flushedBeforeEnd bool
	rec := httptest.NewRecorder()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(206)
		_, _ = io.WriteString(w, "part")
		w.(http.Flusher).Flush()
		flushedBeforeEnd = rec.Flushed && rec.Body.String() == "part"
	})
	New([]Plugin{p}, Options{}).Handle(rec, httptest.NewRequest("GET", "/", nil), &Request{}, next)
	assert.Equal(t, 206, rec.Code)
	assert.Equal(t, "206", rec.Header().Get("X-Seen"))
	assert.True(t, flushedBeforeEnd, "the body streams through")
}

func TestChainEmptyCallsNext(t *testing.T) {
	called := false
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true })
	New(nil, Options{}).Handle(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), nil, next)
	require.True(t, called)
}

func TestRequestProperties(t *testing.T) {
	r := &Request{Params: []Param{{"id", "1"}}}
	_, ok := r.Property("a")
	assert.False(t, ok)
	r.SetProperty("a", "b")
	v, ok := r.Property("a")
	assert.True(t, ok)
	assert.Equal(t, "b", v)
	v, ok = r.Param("id")
	assert.Equal(t, "1", v)
	assert.True(t, ok)
	_, ok = r.Param("x")
	assert.False(t, ok)
}

// TestChainReleasesRequestOnlyPluginsBeforeNext checks that a plugin with
// request phases only gives its instance back before the final handler
// runs (an upstream exchange may be long), while a plugin with a response
// phase keeps its instance until the response.
func TestChainReleasesRequestOnlyPluginsBeforeNext(t *testing.T) {
	var trace []string
	reqOnly := &fakePlugin{name: "auth", phases: PhaseRequestHeaders, trace: &trace}
	withResp := &fakePlugin{name: "tag", phases: PhaseRequestHeaders | PhaseResponseHeaders, trace: &trace}
	c := New([]Plugin{reqOnly, withResp}, Options{})
	var liveInNext [2]int
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		liveInNext = [2]int{reqOnly.live, withResp.live}
		_, _ = io.WriteString(w, "upstream")
	})
	rec := httptest.NewRecorder()
	c.Handle(rec, httptest.NewRequest(http.MethodGet, "/", nil), nil, next)
	assert.Equal(t, [2]int{0, 1}, liveInNext, "instances held while the final handler runs (auth, tag)")
	assert.Equal(t, 0, reqOnly.live)
	assert.Equal(t, 0, withResp.live)
	assert.Equal(t, "auth:on_request_headers tag:on_request_headers tag:on_response_headers", strings.Join(trace, " "))
}
