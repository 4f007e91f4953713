package abi

// The packed encoding of FunctionEvent and FunctionResponse: the same fields as
// the JSON documents, laid out in a fixed order with length prefixes, so a
// guest reads an event by slicing instead of scanning. A Go guest spends most
// of an invocation decoding JSON (about 5µs for a small event in wasm, against
// under 1µs for the packed form); see abi/ABI.md, "Packed events".
//
// A guest asks for it by exporting ExportEventPacked. The host then sends HTTP
// events packed (WebSocket events stay JSON); a guest may answer any event
// with either form, and the host tells them apart by the first byte: PackedTag
// or '{'.
//
// Layout, all integers little-endian:
//
//	str  = u32 length, then the bytes
//	list = u32 count, then count str; count 0xFFFFFFFF is a null list
//	map  = u32 count, then count (key str, value str); 0xFFFFFFFF is a null map
//
//	event    = PackedTag version:str routeKey:str rawPath:str rawQueryString:str
//	           cookies:list headers:map queryStringParameters:map
//	           pathParameters:map stageVariables:map
//	           requestContext.requestId:str .routeKey:str .stage:str .time:str
//	           .timeEpoch:i64 .domainName:str
//	           .http.method:str .path:str .protocol:str .sourceIp:str .userAgent:str
//	           .authorizer.properties:map (null: no authorizer)
//	           body:str flags:u8 (bit 0: isBase64Encoded)
//	response = PackedTag statusCode:u32 headers:map
//	           multiValueHeaders:(u32 count, then count (key str, values list); 0xFFFFFFFF null)
//	           cookies:list body:str flags:u8 (bit 0: isBase64Encoded)
//
// Decoders ignore bytes after the last field they know, so later versions of
// this layout may only append fields.
const (
	// ExportEventPacked is an optional function export, "() -> ()", never
	// called: its presence asks the host for packed HTTP events.
	ExportEventPacked = "event_packed_v1"
	// PackedTag is the first byte of a packed event or response.
	PackedTag byte = 0x01
)

// packedNull is the count of a null list or map.
const packedNull = 0xFFFFFFFF

// PackedError is why a packed document could not be decoded.
type PackedError string

func (e PackedError) Error() string { return "packed " + string(e) }

// AppendPackedEvent appends ev in the packed layout to b.
func AppendPackedEvent(b []byte, ev *FunctionEvent) []byte {
	if ev.Headers == nil {
		return AppendPackedEventHeaders(b, ev, -1, nil)
	}
	return AppendPackedEventHeaders(b, ev, len(ev.Headers), func(b []byte) []byte {
		for k, v := range ev.Headers {
			b = AppendPackedString(AppendPackedString(b, k), v)
		}
		return b
	})
}

// AppendPackedEventHeaders is AppendPackedEvent with the headers written by
// headers instead of read from ev.Headers, which it ignores: headers appends
// exactly n pairs, each a key then its value with AppendPackedString, and
// n < 0 writes null headers (headers is not called). A host packs the headers
// of its own request representation this way, without building a map.
func AppendPackedEventHeaders(b []byte, ev *FunctionEvent, n int, headers func([]byte) []byte) []byte {
	b = append(b, PackedTag)
	b = packStr(b, ev.Version)
	b = packStr(b, ev.RouteKey)
	b = packStr(b, ev.RawPath)
	b = packStr(b, ev.RawQueryString)
	b = packList(b, ev.Cookies)
	if n < 0 {
		b = packU32(b, packedNull)
	} else {
		b = headers(packU32(b, uint32(n)))
	}
	b = packMap(b, ev.QueryStringParameters)
	b = packMap(b, ev.PathParameters)
	b = packMap(b, ev.StageVariables)
	rc := &ev.RequestContext
	b = packStr(b, rc.RequestID)
	b = packStr(b, rc.RouteKey)
	b = packStr(b, rc.Stage)
	b = packStr(b, rc.Time)
	b = packU32(b, uint32(rc.TimeEpoch))
	b = packU32(b, uint32(uint64(rc.TimeEpoch)>>32))
	b = packStr(b, rc.DomainName)
	b = packStr(b, rc.HTTP.Method)
	b = packStr(b, rc.HTTP.Path)
	b = packStr(b, rc.HTTP.Protocol)
	b = packStr(b, rc.HTTP.SourceIP)
	b = packStr(b, rc.HTTP.UserAgent)
	if rc.Authorizer == nil {
		b = packU32(b, packedNull)
	} else {
		b = packMap(b, rc.Authorizer.Properties)
	}
	b = packStr(b, ev.Body)
	return packFlag(b, ev.IsBase64Encoded)
}

// DecodePackedEvent decodes a packed event into ev. The strings of ev are
// slices of src.
func DecodePackedEvent(src string, ev *FunctionEvent) error {
	u := unpacker{src: src, pos: 1}
	if len(src) == 0 || src[0] != PackedTag {
		return PackedError("event: first byte is not the packed tag")
	}
	ev.Version = u.str()
	ev.RouteKey = u.str()
	ev.RawPath = u.str()
	ev.RawQueryString = u.str()
	ev.Cookies = u.list()
	ev.Headers = u.strMap()
	ev.QueryStringParameters = u.strMap()
	ev.PathParameters = u.strMap()
	ev.StageVariables = u.strMap()
	rc := &ev.RequestContext
	rc.RequestID = u.str()
	rc.RouteKey = u.str()
	rc.Stage = u.str()
	rc.Time = u.str()
	lo := u.u32()
	rc.TimeEpoch = int64(uint64(u.u32())<<32 | uint64(lo))
	rc.DomainName = u.str()
	rc.HTTP.Method = u.str()
	rc.HTTP.Path = u.str()
	rc.HTTP.Protocol = u.str()
	rc.HTTP.SourceIP = u.str()
	rc.HTTP.UserAgent = u.str()
	rc.Authorizer = nil
	if props := u.strMap(); props != nil {
		rc.Authorizer = &Authorizer{Properties: props}
	}
	ev.Body = u.str()
	ev.IsBase64Encoded = u.flag()
	if msg := u.failed(); msg != "" {
		return PackedError("event: " + msg)
	}
	return nil
}

// AppendPackedResponse appends r in the packed layout to b.
func AppendPackedResponse(b []byte, r *FunctionResponse) []byte {
	b = append(b, PackedTag)
	b = packU32(b, uint32(int32(r.StatusCode)))
	b = packMap(b, r.Headers)
	if r.MultiValueHeaders == nil {
		b = packU32(b, packedNull)
	} else {
		b = packU32(b, uint32(len(r.MultiValueHeaders)))
		for k, vs := range r.MultiValueHeaders {
			b = packStr(b, k)
			b = packList(b, vs)
		}
	}
	b = packList(b, r.Cookies)
	b = packStr(b, r.Body)
	return packFlag(b, r.IsBase64Encoded)
}

// DecodePackedResponse decodes a packed response into r. The strings of r are
// slices of src. A Headers map r already has is cleared and reused, so a
// caller decoding many responses can recycle them.
func DecodePackedResponse(src string, r *FunctionResponse) error {
	u := unpacker{src: src, pos: 1}
	if len(src) == 0 || src[0] != PackedTag {
		return PackedError("response: first byte is not the packed tag")
	}
	r.StatusCode = int(int32(u.u32()))
	r.Headers = u.strMapInto(r.Headers)
	r.MultiValueHeaders = nil
	if n := u.count(8); n != packedNull {
		r.MultiValueHeaders = make(map[string][]string, n)
		for range n {
			k := u.str()
			r.MultiValueHeaders[k] = u.list()
		}
	}
	r.Cookies = u.list()
	r.Body = u.str()
	r.IsBase64Encoded = u.flag()
	if msg := u.failed(); msg != "" {
		return PackedError("response: " + msg)
	}
	return nil
}

func packU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// AppendPackedString appends s as a packed str (its length, then its bytes).
func AppendPackedString(b []byte, s string) []byte { return packStr(b, s) }

func packStr(b []byte, s string) []byte {
	return append(packU32(b, uint32(len(s))), s...)
}

func packList(b []byte, l []string) []byte {
	if l == nil {
		return packU32(b, packedNull)
	}
	b = packU32(b, uint32(len(l)))
	for _, s := range l {
		b = packStr(b, s)
	}
	return b
}

func packMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return packU32(b, packedNull)
	}
	b = packU32(b, uint32(len(m)))
	for k, v := range m {
		b = packStr(b, k)
		b = packStr(b, v)
	}
	return b
}

func packFlag(b []byte, set bool) []byte {
	if set {
		return append(b, 1)
	}
	return append(b, 0)
}

// unpacker reads a packed document. A read that fails cuts src at pos, where
// it began, so every later read fails too and pos stays at the first failure;
// flag, the last read of each decoder, then records the error. str and u32
// stay under the compiler's inlining budget (TestUnpackerInlines): a Go guest
// pays for every call in wasm, and an event has some twenty strings.
type unpacker struct {
	src string
	pos int
	err string // why decoding failed; "" while it has not
}

// The errors of an unpacker, completed by failed.
const (
	errPastEnd = " runs past the end of the document"
	errTooMany = " counts more items than the rest of the document can hold"
)

// failed returns why decoding failed, or "" when it did not.
func (u *unpacker) failed() string {
	if u.err == "" {
		return ""
	}
	what := "value at byte "
	if u.err == errTooMany {
		what = "count at byte "
	}
	return what + itoa(u.pos) + u.err
}

func (u *unpacker) u32() uint32 {
	s := u.src[u.pos:]
	if len(s) < 4 {
		u.src = u.src[:u.pos]
		return 0
	}
	u.pos += 4
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func (u *unpacker) str() string {
	if s := u.src[u.pos:]; len(s) >= 4 {
		if n := uint(s[0]) | uint(s[1])<<8 | uint(s[2])<<16 | uint(s[3])<<24; n <= uint(len(s)-4) {
			u.pos += 4 + int(n)
			return s[4 : 4+n]
		}
	}
	u.src = u.src[:u.pos]
	return ""
}

// count reads a list or map count; each item takes at least minItem bytes, so
// a count the rest of the document cannot hold is an error, never a huge
// allocation.
func (u *unpacker) count(minItem int) uint32 {
	n := u.u32()
	if n != packedNull && uint64(n)*uint64(minItem) > uint64(len(u.src)-u.pos) {
		u.pos -= 4
		u.src, u.err = u.src[:u.pos], errTooMany
		return packedNull
	}
	return n
}

func (u *unpacker) list() []string {
	n := u.count(4)
	if n == packedNull {
		return nil
	}
	l := make([]string, n)
	for i := range l {
		l[i] = u.str()
	}
	return l
}

func (u *unpacker) strMap() map[string]string { return u.strMapInto(nil) }

// strMapInto is strMap decoding into m, cleared, when m is not nil.
func (u *unpacker) strMapInto(m map[string]string) map[string]string {
	n := u.count(8)
	if n == packedNull {
		return nil
	}
	if m == nil {
		m = make(map[string]string, n)
	} else {
		clear(m)
	}
	for range n {
		k := u.str()
		m[k] = u.str()
	}
	return m
}

// flag reads the flags byte, the last field of both documents, and so it is
// also where an earlier failed read is noticed.
func (u *unpacker) flag() bool {
	if u.pos >= len(u.src) {
		if u.err == "" {
			u.err = errPastEnd
		}
		return false
	}
	u.pos++
	return u.src[u.pos-1]&1 != 0
}

// itoa formats a non-negative int without strconv (abi imports nothing).
func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
