package wasm

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmgate/gateway/abi"
	"github.com/wasmgate/gateway/host/pipeline"
)

// hostFunc is one gateway_v1 function.
type hostFunc struct {
	name string
	sig  sig
	fn   func(ctx context.Context, in *instance, stack []uint64)
}

var (
	i64 = api.ValueTypeI64
	f64 = api.ValueTypeF64
)

func ts(t ...api.ValueType) []api.ValueType { return t }

// hostFuncs is the gateway_v1 module. Names and numbers come from abi.
var hostFuncs = []hostFunc{
	{abi.FuncFeatures, sig{nil, ts(i64)}, func(_ context.Context, in *instance, s []uint64) {
		s[0] = in.p.h.features() | abi.FeatureCryptoVerify | abi.FeatureCryptoDigest | abi.FeatureJSONSchema | abi.FeatureJSONSelect
	}},
	{abi.FuncPhasesSet, sig{ts(i32), nil}, func(_ context.Context, in *instance, s []uint64) {
		if in.configuring {
			in.phaseMask = api.DecodeU32(s[0])
		}
	}},
	{abi.FuncConfigGet, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		s[0] = in.writeBytes(abi.FuncConfigGet, s[0], s[1], in.p.cfg.ConfigJSON)
	}},
	{abi.FuncSetError, sig{ts(i32, i32), nil}, func(_ context.Context, in *instance, s []uint64) {
		in.configErr = string(in.read(abi.FuncSetError, s[0], s[1]))
	}},
	{abi.FuncLog, sig{ts(i32, i32, i32), nil}, hostLog},

	{abi.FuncHeaderGet, sig{ts(i32, i32, i32, i32, i32), ts(i32)}, hostHeaderGet},
	{abi.FuncHeaderValues, sig{ts(i32, i32, i32, i32, i32), ts(i32)}, hostHeaderValues},
	{abi.FuncHeaderNames, sig{ts(i32, i32, i32), ts(i32)}, hostHeaderNames},
	{abi.FuncHeaderSet, sig{ts(i32, i32, i32, i32, i32), nil}, func(_ context.Context, in *instance, s []uint64) { in.headerSet(abi.FuncHeaderSet, s, false) }},
	{abi.FuncHeaderAdd, sig{ts(i32, i32, i32, i32, i32), nil}, func(_ context.Context, in *instance, s []uint64) { in.headerSet(abi.FuncHeaderAdd, s, true) }},
	{abi.FuncHeaderRemove, sig{ts(i32, i32, i32), nil}, hostHeaderRemove},

	{abi.FuncMethodGet, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		s[0] = in.writeString(abi.FuncMethodGet, s[0], s[1], in.exchange(abi.FuncMethodGet).Request.Method)
	}},
	{abi.FuncMethodSet, sig{ts(i32, i32), nil}, func(_ context.Context, in *instance, s []uint64) {
		r := in.exchange(abi.FuncMethodSet).Request
		m := in.read(abi.FuncMethodSet, s[0], s[1])
		if len(m) == 0 || bytes.ContainsAny(m, " \t\r\n") {
			in.trap(abi.FuncMethodSet, "method %q is not an HTTP token", m)
		}
		r.Method = string(m)
	}},
	{abi.FuncPathGet, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		s[0] = in.writeString(abi.FuncPathGet, s[0], s[1], in.exchange(abi.FuncPathGet).Request.URL.EscapedPath())
	}},
	{abi.FuncPathSet, sig{ts(i32, i32), nil}, func(_ context.Context, in *instance, s []uint64) {
		u := in.exchange(abi.FuncPathSet).Request.URL
		raw := string(in.read(abi.FuncPathSet, s[0], s[1]))
		p, err := url.PathUnescape(raw)
		if err != nil || !strings.HasPrefix(raw, "/") {
			in.trap(abi.FuncPathSet, "path %q must start with / and be validly escaped", raw)
		}
		u.Path, u.RawPath = p, ""
		if u.EscapedPath() != raw {
			u.RawPath = raw
		}
	}},
	{abi.FuncQueryGet, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		s[0] = in.writeString(abi.FuncQueryGet, s[0], s[1], in.exchange(abi.FuncQueryGet).Request.URL.RawQuery)
	}},
	{abi.FuncQuerySet, sig{ts(i32, i32), nil}, func(_ context.Context, in *instance, s []uint64) {
		in.exchange(abi.FuncQuerySet).Request.URL.RawQuery = string(in.read(abi.FuncQuerySet, s[0], s[1]))
	}},
	{abi.FuncRouteKeyGet, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		s[0] = in.writeString(abi.FuncRouteKeyGet, s[0], s[1], in.exchange(abi.FuncRouteKeyGet).Info.RouteKey)
	}},
	{abi.FuncRouteParamGet, sig{ts(i32, i32, i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		name := in.read(abi.FuncRouteParamGet, s[0], s[1])
		for _, p := range in.exchange(abi.FuncRouteParamGet).Info.Params {
			if p.Name == string(name) {
				s[0] = in.writeString(abi.FuncRouteParamGet, s[2], s[3], p.Value)
				return
			}
		}
		s[0] = api.EncodeI32(abi.ResultNotFound)
	}},
	{abi.FuncClientIPGet, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		s[0] = in.writeString(abi.FuncClientIPGet, s[0], s[1], in.exchange(abi.FuncClientIPGet).Info.ClientIP)
	}},
	{abi.FuncTLSInfoGet, sig{ts(i32, i32, i32), ts(i32)}, hostTLSInfo},
	{abi.FuncRequestIDGet, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		s[0] = in.writeString(abi.FuncRequestIDGet, s[0], s[1], in.exchange(abi.FuncRequestIDGet).Info.RequestID)
	}},

	{abi.FuncRequestBodyRead, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		ex := in.exchange(abi.FuncRequestBodyRead)
		if !ex.RequestBodyBuffered {
			s[0] = api.EncodeI32(abi.ResultWrongPhase)
			return
		}
		s[0] = in.writeBytes(abi.FuncRequestBodyRead, s[0], s[1], ex.RequestBody)
	}},
	{abi.FuncRequestBodyWrite, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		ex := in.exchange(abi.FuncRequestBodyWrite)
		b := in.read(abi.FuncRequestBodyWrite, s[0], s[1])
		if !ex.RequestBodyBuffered {
			s[0] = api.EncodeI32(abi.ResultWrongPhase)
			return
		}
		ex.RequestBody = append(ex.RequestBody[:0], b...)
		s[0] = api.EncodeI32(abi.ResultOK)
	}},
	{abi.FuncResponseBodyRead, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		ex := in.exchange(abi.FuncResponseBodyRead)
		if !ex.ResponseBodyBuffered {
			s[0] = api.EncodeI32(abi.ResultWrongPhase)
			return
		}
		s[0] = in.writeBytes(abi.FuncResponseBodyRead, s[0], s[1], ex.ResponseBody)
	}},
	{abi.FuncResponseBodyWrite, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		ex := in.exchange(abi.FuncResponseBodyWrite)
		b := in.read(abi.FuncResponseBodyWrite, s[0], s[1])
		if !ex.ResponseBodyBuffered {
			s[0] = api.EncodeI32(abi.ResultWrongPhase)
			return
		}
		ex.ResponseBody = append(ex.ResponseBody[:0], b...)
		s[0] = api.EncodeI32(abi.ResultOK)
	}},
	{abi.FuncStatusGet, sig{nil, ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		s[0] = api.EncodeI32(int32(in.exchange(abi.FuncStatusGet).Status))
	}},
	{abi.FuncStatusSet, sig{ts(i32), nil}, func(_ context.Context, in *instance, s []uint64) {
		ex := in.exchange(abi.FuncStatusSet)
		st := api.DecodeI32(s[0])
		if st < 200 || st > 999 {
			in.trap(abi.FuncStatusSet, "status %d is outside 200-999", st)
		}
		ex.Status = int(st)
	}},
	{abi.FuncSendResponse, sig{ts(i32, i32, i32), nil}, func(_ context.Context, in *instance, s []uint64) {
		ex := in.exchange(abi.FuncSendResponse)
		st := api.DecodeI32(s[0])
		body := in.read(abi.FuncSendResponse, s[1], s[2])
		if st < 200 || st > 999 {
			in.trap(abi.FuncSendResponse, "status %d is outside 200-999", st)
		}
		ex.Respond(int(st), body)
	}},

	{abi.FuncPropertyGet, sig{ts(i32, i32, i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		key := in.read(abi.FuncPropertyGet, s[0], s[1])
		v, ok := in.exchange(abi.FuncPropertyGet).Info.Properties[string(key)]
		if !ok {
			s[0] = api.EncodeI32(abi.ResultNotFound)
			return
		}
		s[0] = in.writeString(abi.FuncPropertyGet, s[2], s[3], v)
	}},
	{abi.FuncPropertySet, sig{ts(i32, i32, i32, i32), nil}, func(_ context.Context, in *instance, s []uint64) {
		ex := in.exchange(abi.FuncPropertySet)
		key := in.read(abi.FuncPropertySet, s[0], s[1])
		val := in.read(abi.FuncPropertySet, s[2], s[3])
		ex.Info.SetProperty(in.intern(key), string(val))
	}},

	{abi.FuncMetricDefine, sig{ts(i32, i32, i32, i32, i32), ts(i32)}, hostMetricDefine},
	{abi.FuncMetricAdd, sig{ts(i32, f64), nil}, func(_ context.Context, in *instance, s []uint64) { in.metricOp(abi.FuncMetricAdd, s) }},
	{abi.FuncMetricSet, sig{ts(i32, f64), nil}, func(_ context.Context, in *instance, s []uint64) { in.metricOp(abi.FuncMetricSet, s) }},
	{abi.FuncMetricObserve, sig{ts(i32, f64), nil}, func(_ context.Context, in *instance, s []uint64) { in.metricOp(abi.FuncMetricObserve, s) }},

	{abi.FuncKVGet, sig{ts(i32, i32, i32, i32), ts(i32)}, bounded(hostKVGet)},
	{abi.FuncKVSet, sig{ts(i32, i32, i32, i32, i64), ts(i32)}, bounded(hostKVSet)},
	{abi.FuncKVCAS, sig{ts(i32, i32, i32, i32, i32, i32, i64, i32), ts(i32)}, bounded(hostKVCAS)},
	{abi.FuncKVDelete, sig{ts(i32, i32), ts(i32)}, bounded(hostKVDelete)},

	{abi.FuncTimeNowNs, sig{nil, ts(i64)}, func(_ context.Context, _ *instance, s []uint64) { s[0] = uint64(time.Now().UnixNano()) }},
	{abi.FuncRandomGet, sig{ts(i32, i32), nil}, func(_ context.Context, in *instance, s []uint64) {
		_, _ = rand.Read(in.read(abi.FuncRandomGet, s[0], s[1]))
	}},

	{abi.FuncHTTPCall, sig{ts(i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32), ts(i32)}, bounded(hostHTTPCall)},
	{abi.FuncHTTPResponseStatus, sig{nil, ts(i32)}, func(_ context.Context, in *instance, s []uint64) { s[0] = api.EncodeI32(int32(in.callStatus)) }},
	{abi.FuncHTTPResponseHeader, sig{ts(i32, i32, i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		name := in.read(abi.FuncHTTPResponseHeader, s[0], s[1])
		_, vals := in.lookup(in.callHeader, name)
		if len(vals) == 0 {
			s[0] = api.EncodeI32(abi.ResultNotFound)
			return
		}
		s[0] = in.writeString(abi.FuncHTTPResponseHeader, s[2], s[3], vals[0])
	}},
	{abi.FuncHTTPResponseBody, sig{ts(i32, i32), ts(i32)}, func(_ context.Context, in *instance, s []uint64) {
		s[0] = in.writeBytes(abi.FuncHTTPResponseBody, s[0], s[1], in.callBody)
	}},

	{abi.FuncCryptoVerify, sig{ts(i32, i32, i32, i32, i32, i32, i32, i32), ts(i32)}, hostCryptoVerify},
	{abi.FuncCryptoDigest, sig{ts(i32, i32, i32, i32, i32, i32, i32), ts(i32)}, hostCryptoDigest},

	{abi.FuncJSONSchemaCompile, sig{ts(i32, i32, i32), ts(i32)}, hostJSONSchemaCompile},
	{abi.FuncJSONSchemaError, sig{ts(i32, i32), ts(i32)}, hostJSONSchemaError},
	{abi.FuncJSONValidate, sig{ts(i32, i32, i32, i32, i32), ts(i32)}, hostJSONValidate},
	{abi.FuncJSONSelect, sig{ts(i32, i32, i32, i32, i32, i32), ts(i32)}, hostJSONSelect},

	{abi.FuncConnectionSend, sig{ts(i32, i32, i32, i32), ts(i32)}, bounded(hostConnectionSend)},
	{abi.FuncConnectionClose, sig{ts(i32, i32), ts(i32)}, bounded(hostConnectionClose)},

	// Function backends (function.go).
	{abi.FuncEventGet, sig{ts(i32, i32), ts(i32)}, hostEventGet},
	{abi.FuncEventRespond, sig{ts(i32, i32), ts(i32)}, hostEventRespond},
}

// hostFuncByName indexes hostFuncs for import validation.
var hostFuncByName = func() map[string]*hostFunc {
	m := make(map[string]*hostFunc, len(hostFuncs))
	for i := range hostFuncs {
		m[hostFuncs[i].name] = &hostFuncs[i]
	}
	return m
}()

// bounded gives a host function that may block on I/O the deadline of the
// call in progress. A call timed by the instance's own timer
// (instance.callFor) runs with a context that has no deadline, so without
// this a slow Redis or upstream could hold the guest past its timeout.
func bounded(fn func(context.Context, *instance, []uint64)) func(context.Context, *instance, []uint64) {
	return func(ctx context.Context, in *instance, s []uint64) {
		if d := in.timed.deadline; !d.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d)
			defer cancel()
		}
		fn(ctx, in, s)
	}
}

// instantiateHostModule defines gateway_v1 in r.
func instantiateHostModule(ctx context.Context, r wazero.Runtime) error {
	b := r.NewHostModuleBuilder(abi.HostModule)
	for i := range hostFuncs {
		hf := &hostFuncs[i]
		b.NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
				in := instanceFrom(ctx)
				if in == nil {
					panic(fmt.Errorf("%s.%s called outside a gateway plugin call", abi.HostModule, hf.name))
				}
				if in.callCtx != nil { // a call timed by the instance (callFor)
					ctx = in.callCtx
				}
				hf.fn(ctx, in, stack)
			}), hf.sig.params, hf.sig.results).
			WithName(hf.name).
			Export(hf.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// read returns a view of guest memory, trapping on a bad pointer.
func (in *instance) read(fn string, ptr, n uint64) []byte {
	b, ok := in.mem.Read(uint32(ptr), uint32(n))
	if !ok {
		in.trap(fn, "pointer %d length %d is outside guest memory (%d bytes)", uint32(ptr), uint32(n), in.mem.Size())
	}
	return b
}

// writeString implements buffer+limit: it writes v into buf when it fits and
// returns len(v) either way.
func (in *instance) writeString(fn string, buf, limit uint64, v string) uint64 {
	if uint32(len(v)) <= uint32(limit) && len(v) > 0 {
		if !in.mem.WriteString(uint32(buf), v) {
			in.trap(fn, "buffer %d length %d is outside guest memory (%d bytes)", uint32(buf), len(v), in.mem.Size())
		}
	}
	return uint64(len(v))
}

func (in *instance) writeBytes(fn string, buf, limit uint64, v []byte) uint64 {
	if uint32(len(v)) <= uint32(limit) && len(v) > 0 {
		if !in.mem.Write(uint32(buf), v) {
			in.trap(fn, "buffer %d length %d is outside guest memory (%d bytes)", uint32(buf), len(v), in.mem.Size())
		}
	}
	return uint64(len(v))
}

// exchange returns the current request, trapping outside request phases.
func (in *instance) exchange(fn string) *exchangeT {
	if in.ex == nil {
		in.trap(fn, "called outside a request phase (during %s); call it from a phase", abi.ExportOnConfigure)
	}
	return in.ex
}

func (in *instance) headers(fn string, kind uint64) http.Header {
	ex := in.exchange(fn)
	switch uint32(kind) {
	case abi.HeaderKindRequest:
		return ex.Request.Header
	case abi.HeaderKindResponse:
		return ex.Header
	}
	in.trap(fn, "unknown header kind %d; use %d (request) or %d (response)", uint32(kind), abi.HeaderKindRequest, abi.HeaderKindResponse)
	return nil
}

// lookup finds name in h without allocating when name is canonical, or
// when this instance canonicalized it before.
func (in *instance) lookup(h http.Header, name []byte) (string, []string) {
	if v, ok := h[string(name)]; ok {
		return "", v
	}
	key, ok := in.canonical[string(name)]
	if !ok {
		key = textproto.CanonicalMIMEHeaderKey(string(name))
		if len(name) <= maxInterned && len(in.canonical) < maxInternedCount {
			if in.canonical == nil {
				in.canonical = make(map[string]string)
			}
			in.canonical[string(name)] = key
		}
	}
	return key, h[key]
}

// Bounds of an instance's table of interned strings (instance.intern).
const (
	maxInterned      = 64  // bytes of one string
	maxInternedCount = 256 // strings
)

// intern returns b as a string, reusing the string of an equal b seen
// before: header names and property keys repeat on every request, and each
// string(b) would be an allocation. The table is bounded, so names a guest
// makes up cost no more than before once it is full.
func (in *instance) intern(b []byte) string {
	if s, ok := in.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= maxInterned && len(in.interned) < maxInternedCount {
		if in.interned == nil {
			in.interned = make(map[string]string)
		}
		in.interned[s] = s
	}
	return s
}

func isHost(kind uint64, name []byte) bool {
	return uint32(kind) == abi.HeaderKindRequest && len(name) == 4 && strings.EqualFold(string(name), "host")
}

func hostHeaderGet(_ context.Context, in *instance, s []uint64) {
	h := in.headers(abi.FuncHeaderGet, s[0])
	name := in.read(abi.FuncHeaderGet, s[1], s[2])
	if isHost(s[0], name) {
		s[0] = in.writeString(abi.FuncHeaderGet, s[3], s[4], in.ex.Request.Host)
		return
	}
	_, vals := in.lookup(h, name)
	if len(vals) == 0 {
		s[0] = api.EncodeI32(abi.ResultNotFound)
		return
	}
	s[0] = in.writeString(abi.FuncHeaderGet, s[3], s[4], vals[0])
}

func hostHeaderValues(_ context.Context, in *instance, s []uint64) {
	h := in.headers(abi.FuncHeaderValues, s[0])
	name := in.read(abi.FuncHeaderValues, s[1], s[2])
	var vals []string
	if isHost(s[0], name) {
		// Host is not in the header map (net/http moves it to Request.Host);
		// answer it as header_get does.
		vals = []string{in.ex.Request.Host}
	} else {
		_, vals = in.lookup(h, name)
	}
	if len(vals) == 0 {
		s[0] = api.EncodeI32(abi.ResultNotFound)
		return
	}
	b := in.scratch[:0]
	for _, v := range vals {
		b = append(append(b, v...), 0)
	}
	in.scratch = b
	s[0] = in.writeBytes(abi.FuncHeaderValues, s[3], s[4], b)
}

func hostHeaderNames(_ context.Context, in *instance, s []uint64) {
	h := in.headers(abi.FuncHeaderNames, s[0])
	b := in.scratch[:0]
	for k := range h {
		b = append(append(b, k...), 0)
	}
	in.scratch = b
	s[0] = in.writeBytes(abi.FuncHeaderNames, s[1], s[2], b)
}

func (in *instance) headerSet(fn string, s []uint64, add bool) {
	h := in.headers(fn, s[0])
	name := in.read(fn, s[1], s[2])
	val := in.read(fn, s[3], s[4])
	if len(name) == 0 || bytes.ContainsAny(name, " \t\r\n:\x00") || bytes.ContainsAny(val, "\r\n\x00") {
		in.trap(fn, "header %q: %q is not a valid header field; names are tokens and values have no CR, LF or NUL", name, val)
	}
	if isHost(s[0], name) {
		in.ex.Request.Host = string(val)
		return
	}
	key, vals := in.lookup(h, name)
	if key == "" { // found under the canonical name as given
		key = in.intern(name)
	}
	if add {
		h[key] = append(vals, string(val))
		return
	}
	if len(vals) == 1 && vals[0] == string(val) {
		return
	}
	if cap(vals) > 0 {
		h[key] = append(vals[:0], string(val))
		return
	}
	h[key] = []string{string(val)}
}

func hostHeaderRemove(_ context.Context, in *instance, s []uint64) {
	h := in.headers(abi.FuncHeaderRemove, s[0])
	name := in.read(abi.FuncHeaderRemove, s[1], s[2])
	key, _ := in.lookup(h, name)
	if key == "" { // present under the name as given
		delete(h, string(name))
		return
	}
	delete(h, key)
}

func hostLog(ctx context.Context, in *instance, s []uint64) {
	level := slog.Level(api.DecodeI32(s[0]))
	msg := in.read(abi.FuncLog, s[1], s[2])
	logger := in.p.h.logger
	if !logger.Enabled(ctx, level) {
		return
	}
	reqID := ""
	if in.ex != nil {
		reqID = in.ex.Info.RequestID
	}
	logger.LogAttrs(ctx, level, string(msg), slog.String("plugin", in.p.name), slog.String("request_id", reqID))
}

func hostTLSInfo(_ context.Context, in *instance, s []uint64) {
	cs := in.exchange(abi.FuncTLSInfoGet).Info.TLS
	var v string
	if cs != nil {
		switch uint32(s[0]) {
		case abi.TLSFieldVersion:
			v = tls.VersionName(cs.Version)
		case abi.TLSFieldCipher:
			v = tls.CipherSuiteName(cs.CipherSuite)
		case abi.TLSFieldServerName:
			v = cs.ServerName
		case abi.TLSFieldPeerSubject:
			if len(cs.PeerCertificates) > 0 {
				v = subject(cs.PeerCertificates[0])
			}
		default:
			in.trap(abi.FuncTLSInfoGet, "unknown TLS field %d", uint32(s[0]))
		}
	}
	s[0] = in.writeString(abi.FuncTLSInfoGet, s[1], s[2], v)
}

func subject(c *x509.Certificate) string { return c.Subject.String() }

// kvKey namespaces a guest key by plugin name.
func (in *instance) kvKey(fn string, ptr, n uint64) string {
	return in.p.name + "/" + string(in.read(fn, ptr, n))
}

func kvResult(err error) uint64 {
	if errors.Is(err, context.DeadlineExceeded) {
		return api.EncodeI32(abi.ResultTimeout)
	}
	return api.EncodeI32(abi.ResultUnavailable)
}

func ttl(ms uint64) time.Duration { return time.Duration(int64(ms)) * time.Millisecond }

func hostKVGet(ctx context.Context, in *instance, s []uint64) {
	key := in.kvKey(abi.FuncKVGet, s[0], s[1])
	store := in.p.h.opts.KV
	if store == nil {
		s[0] = api.EncodeI32(abi.ResultUnavailable)
		return
	}
	v, ok, err := store.Get(ctx, key)
	switch {
	case err != nil:
		s[0] = kvResult(err)
	case !ok:
		s[0] = api.EncodeI32(abi.ResultNotFound)
	default:
		s[0] = in.writeBytes(abi.FuncKVGet, s[2], s[3], v)
	}
}

func hostKVSet(ctx context.Context, in *instance, s []uint64) {
	key := in.kvKey(abi.FuncKVSet, s[0], s[1])
	val := in.read(abi.FuncKVSet, s[2], s[3])
	store := in.p.h.opts.KV
	if store == nil {
		s[0] = api.EncodeI32(abi.ResultUnavailable)
		return
	}
	if err := store.Set(ctx, key, bytes.Clone(val), ttl(s[4])); err != nil {
		s[0] = kvResult(err)
		return
	}
	s[0] = api.EncodeI32(abi.ResultOK)
}

func hostKVCAS(ctx context.Context, in *instance, s []uint64) {
	key := in.kvKey(abi.FuncKVCAS, s[0], s[1])
	old := bytes.Clone(in.read(abi.FuncKVCAS, s[2], s[3]))
	val := bytes.Clone(in.read(abi.FuncKVCAS, s[4], s[5]))
	store := in.p.h.opts.KV
	if store == nil {
		s[0] = api.EncodeI32(abi.ResultUnavailable)
		return
	}
	if uint32(s[7])&abi.KVFlagCreate != 0 {
		old = nil
	} else if old == nil {
		old = []byte{}
	}
	ok, err := store.CompareAndSwap(ctx, key, old, val, ttl(s[6]))
	switch {
	case err != nil:
		s[0] = kvResult(err)
	case ok:
		s[0] = 1
	default:
		s[0] = 0
	}
}

func hostKVDelete(ctx context.Context, in *instance, s []uint64) {
	key := in.kvKey(abi.FuncKVDelete, s[0], s[1])
	store := in.p.h.opts.KV
	if store == nil {
		s[0] = api.EncodeI32(abi.ResultUnavailable)
		return
	}
	if err := store.Delete(ctx, key); err != nil {
		s[0] = kvResult(err)
		return
	}
	s[0] = api.EncodeI32(abi.ResultOK)
}

func hostHTTPCall(ctx context.Context, in *instance, s []uint64) {
	const fn = abi.FuncHTTPCall
	upstream := string(in.read(fn, s[0], s[1]))
	method := string(in.read(fn, s[2], s[3]))
	path := string(in.read(fn, s[4], s[5]))
	hdrs := in.read(fn, s[6], s[7])
	body := bytes.Clone(in.read(fn, s[8], s[9]))
	timeout := time.Duration(api.DecodeI32(s[10])) * time.Millisecond
	h := in.p.h
	in.callStatus, in.callBody = 0, in.callBody[:0]
	clear(in.callHeader)
	if h.opts.HTTPCaller == nil {
		s[0] = api.EncodeI32(abi.ResultUnavailable)
		return
	}
	if !h.upstreams[upstream] {
		s[0] = api.EncodeI32(abi.ResultDenied)
		return
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	if err != nil {
		s[0] = api.EncodeI32(abi.ResultInvalid)
		return
	}
	for len(hdrs) > 0 {
		name, rest, ok1 := bytes.Cut(hdrs, []byte{0})
		val, rest2, ok2 := bytes.Cut(rest, []byte{0})
		if !ok1 || !ok2 {
			s[0] = api.EncodeI32(abi.ResultInvalid)
			return
		}
		req.Header.Add(string(name), string(val))
		hdrs = rest2
	}
	resp, err := h.opts.HTTPCaller.Call(ctx, upstream, req)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			s[0] = api.EncodeI32(abi.ResultTimeout)
		} else {
			s[0] = api.EncodeI32(abi.ResultUnavailable)
		}
		return
	}
	defer resp.Body.Close()
	buf := bytes.NewBuffer(in.callBody[:0])
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, h.opts.HTTPCallMaxBody+1))
	in.callBody = buf.Bytes()
	switch {
	case n > h.opts.HTTPCallMaxBody:
		in.callBody = in.callBody[:0]
		s[0] = api.EncodeI32(abi.ResultTooLarge)
		return
	case err != nil:
		s[0] = kvResult(err)
		return
	}
	in.callStatus = resp.StatusCode
	for k, v := range resp.Header {
		in.callHeader[k] = v
	}
	s[0] = 1
}

// metricOp applies add/set/observe to a defined metric.
func (in *instance) metricOp(fn string, s []uint64) {
	id := api.DecodeI32(s[0])
	v := api.DecodeF64(s[1])
	p := in.p
	p.metricsMu.Lock()
	var m *pluginMetric
	if id >= 0 && int(id) < len(p.metrics) {
		m = p.metrics[id]
	}
	p.metricsMu.Unlock()
	if m == nil {
		in.trap(fn, "metric id %d was not returned by %s", id, abi.FuncMetricDefine)
	}
	if math.IsNaN(v) {
		in.trap(fn, "value is NaN")
	}
	if err := m.apply(fn, v); err != nil {
		in.trap(fn, "%s", err.Error())
	}
}

func hostMetricDefine(_ context.Context, in *instance, s []uint64) {
	kind := api.DecodeU32(s[0])
	name := string(in.read(abi.FuncMetricDefine, s[1], s[2]))
	help := string(in.read(abi.FuncMetricDefine, s[3], s[4]))
	s[0] = api.EncodeI32(in.p.defineMetric(kind, name, help))
}

// exchangeT is the pipeline exchange; the alias keeps signatures short.
type exchangeT = pipeline.Exchange

// hostCryptoVerify implements abi.FuncCryptoVerify: a JWS signature check
// done natively, about 10x faster than Go's crypto inside the guest.
func hostCryptoVerify(_ context.Context, in *instance, s []uint64) {
	const fn = abi.FuncCryptoVerify
	alg := in.read(fn, s[0], s[1])
	key := in.read(fn, s[2], s[3])
	data := in.read(fn, s[4], s[5])
	sig := in.read(fn, s[6], s[7])
	s[0] = api.EncodeI32(verifyJWS(string(alg), key, data, sig))
}

// verifyJWS checks sig over data with key for the JWS algorithm alg and
// returns an abi result code. key is a DER SubjectPublicKeyInfo or a raw
// Ed25519 public key; ECDSA signatures are JWS r||s.
func verifyJWS(alg string, key, data, sig []byte) int32 {
	var hash crypto.Hash
	switch alg {
	case "RS256", "PS256", "ES256":
		hash = crypto.SHA256
	case "RS384", "PS384", "ES384":
		hash = crypto.SHA384
	case "RS512", "PS512", "ES512":
		hash = crypto.SHA512
	case "EdDSA":
	default:
		return abi.ResultInvalid
	}
	var pub any
	if alg == "EdDSA" && len(key) == ed25519.PublicKeySize {
		pub = ed25519.PublicKey(key)
	} else {
		k, err := x509.ParsePKIXPublicKey(key)
		if err != nil {
			return abi.ResultInvalid
		}
		pub = k
	}
	var digest []byte
	if hash != 0 {
		h := hash.New()
		h.Write(data)
		digest = h.Sum(nil)
	}
	ok := false
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch alg[0] {
		case 'R':
			ok = rsa.VerifyPKCS1v15(k, hash, digest, sig) == nil
		case 'P':
			ok = rsa.VerifyPSS(k, hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
		default:
			return abi.ResultInvalid
		}
	case *ecdsa.PublicKey:
		var want elliptic.Curve
		switch hash {
		case crypto.SHA256:
			want = elliptic.P256()
		case crypto.SHA384:
			want = elliptic.P384()
		default:
			want = elliptic.P521()
		}
		if alg[0] != 'E' || k.Curve != want {
			return abi.ResultInvalid
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return abi.ResultBadSignature
		}
		r := new(big.Int).SetBytes(sig[:size])
		sv := new(big.Int).SetBytes(sig[size:])
		ok = ecdsa.Verify(k, digest, r, sv)
	case ed25519.PublicKey:
		if alg != "EdDSA" {
			return abi.ResultInvalid
		}
		ok = ed25519.Verify(k, data, sig)
	default:
		return abi.ResultInvalid
	}
	if !ok {
		return abi.ResultBadSignature
	}
	return abi.ResultOK
}
