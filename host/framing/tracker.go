package framing

import (
	"bytes"
	"net/http"
)

// state is where the tracker is in the request stream.
type state uint8

const (
	stHeaders     state = iota // reading a request line and header fields
	stBodyLength               // counting down Content-Length body bytes
	stChunkSize                // reading a chunk-size line
	stChunkData                // counting down chunk data bytes
	stChunkEnd                 // reading the CRLF after chunk data
	stTrailer                  // reading the trailer section after the last chunk
	stPassthrough              // no more framing to check
	stStopped                  // a rejection was reported; nothing more is read
)

// verdict is what advance found at the end of the bytes it vetted.
type verdict uint8

const (
	// needMore: every complete unit was vetted; the rest is an unfinished
	// header block or chunk line that needs more input.
	needMore verdict = iota
	// passthrough: everything from the vetted offset on may pass unchecked.
	passthrough
	// rejectBlock: the header block at the vetted offset is refused;
	// tracker.err says why and with which status.
	rejectBlock
	// badBody: the chunked body is malformed at the vetted offset; the
	// stream must end there.
	badBody
)

const (
	// maxChunkLine bounds a chunk-size line, as net/http does.
	maxChunkLine = 4096
	// maxCLDigits keeps Content-Length below 10^18 < 2^63.
	maxCLDigits = 18
	// maxChunkSize keeps chunk sizes well inside int64.
	maxChunkSize = 1 << 62
	// maxLeadingCRLF is how many empty lines net/http skips after a POST.
	maxLeadingCRLF = 2
)

// block holds what the tracker learned from the header block being read.
type block struct {
	lines         int // request line and field lines seen
	leadingCRLF   int
	clCount       int
	contentLength int64
	teSeen        bool
	teChunked     int  // how many times chunked was listed
	teLastChunked bool // the last listed coding was chunked
	teOther       bool // some other coding was listed
	teBad         bool // an empty list element
	http10        bool
	post          bool
	connect       bool
	pri           bool
	connUpgrade   bool
	hasUpgrade    bool
}

// tracker follows HTTP/1.1 message framing across a byte stream. It keeps no
// bytes itself: advance is given every byte not yet vetted, starting at the
// unit (header block, chunk line) the tracker is in, and says how many of them
// may be released.
type tracker struct {
	maxHeaderBytes int
	state          state
	// off is how many bytes of the current unit were already examined.
	off      int
	remain   int64
	requests int // header blocks accepted so far
	lastPOST bool
	upgrade  bool // switch to passthrough when the current message ends
	blk      block
	err      *Error
}

// newTracker returns a tracker that refuses header blocks and trailer
// sections larger than maxHeaderBytes.
func newTracker(maxHeaderBytes int) tracker {
	return tracker{maxHeaderBytes: maxHeaderBytes}
}

// advance vets b, which starts at the first byte not yet vetted, and returns
// how many bytes from its start may be released and what stopped it.
func (t *tracker) advance(b []byte) (int, verdict) {
	pos := 0
	for pos < len(b) {
		switch t.state {
		case stHeaders:
			n, v := t.headers(b[pos:])
			if v != needMore || n == 0 {
				return pos, v
			}
			pos += n
		case stBodyLength:
			n := int64(len(b) - pos)
			if n > t.remain {
				n = t.remain
			}
			pos += int(n)
			t.remain -= n
			if t.remain == 0 {
				if t.endMessage() {
					return pos, passthrough
				}
			}
		case stChunkSize:
			n, ok := t.chunkSize(b[pos:])
			if !ok {
				return pos, badBody
			}
			if n == 0 {
				return pos, needMore
			}
			pos += n
		case stChunkData:
			n := int64(len(b) - pos)
			if n > t.remain {
				n = t.remain
			}
			pos += int(n)
			t.remain -= n
			if t.remain == 0 {
				t.state = stChunkEnd
			}
		case stChunkEnd:
			rest := b[pos:]
			if rest[0] != '\r' {
				return pos, badBody
			}
			if len(rest) < 2 {
				return pos, needMore
			}
			if rest[1] != '\n' {
				return pos, badBody
			}
			pos += 2
			t.state = stChunkSize
		case stTrailer:
			n, ok := t.trailer(b[pos:])
			if !ok {
				return pos, badBody
			}
			if n == 0 {
				return pos, needMore
			}
			pos += n
			if t.endMessage() {
				return pos, passthrough
			}
		case stPassthrough:
			return pos, passthrough
		default:
			return pos, rejectBlock
		}
	}
	if t.state == stPassthrough {
		return pos, passthrough
	}
	return pos, needMore
}

// endMessage moves to the next request, or to passthrough after an upgrade;
// it reports whether it did the latter.
func (t *tracker) endMessage() bool {
	t.off = 0
	if t.upgrade {
		t.state = stPassthrough
		return true
	}
	t.state = stHeaders
	return false
}

// reject records why the current header block is refused.
func (t *tracker) reject(status int, reason string) (int, verdict) {
	t.err = &Error{Status: status, Reason: reason}
	t.state = stStopped
	return 0, rejectBlock
}

// headers examines the header block at the start of b. It returns the block's
// length and needMore once the block is complete and acceptable, 0 and
// needMore while it is incomplete, and 0 and another verdict otherwise.
func (t *tracker) headers(b []byte) (int, verdict) {
	if t.off == 0 {
		t.blk = block{}
	}
	for {
		i := bytes.IndexByte(b[t.off:], '\n')
		if i < 0 {
			if len(b) > t.maxHeaderBytes {
				return t.reject(http.StatusRequestHeaderFieldsTooLarge, "header block exceeds the size limit")
			}
			return 0, needMore
		}
		end := t.off + i + 1
		if end > t.maxHeaderBytes {
			return t.reject(http.StatusRequestHeaderFieldsTooLarge, "header block exceeds the size limit")
		}
		if i == 0 || b[t.off+i-1] != '\r' {
			return t.reject(http.StatusBadRequest, "line ends with a bare LF; end lines with CRLF")
		}
		line := b[t.off : t.off+i-1]
		t.off = end
		if len(line) == 0 {
			if t.blk.lines == 0 {
				t.blk.leadingCRLF++
				if !t.lastPOST || t.blk.leadingCRLF > maxLeadingCRLF {
					return t.reject(http.StatusBadRequest, "empty line before the request line")
				}
				continue
			}
			if v := t.endHeaders(); v != needMore {
				return 0, v
			}
			t.off = 0
			return end, needMore
		}
		var reason string
		if t.blk.lines == 0 {
			reason = t.requestLine(line)
		} else {
			reason = t.field(line)
		}
		if reason != "" {
			return t.reject(http.StatusBadRequest, reason)
		}
		t.blk.lines++
	}
}

// h2Preface is the HTTP/2 connection preface up to its first empty line; the
// "SM\r\n\r\n" that follows is left for the server to check.
const h2Preface = "PRI * HTTP/2.0\r\n\r\n"

// requestLine checks method SP request-target SP HTTP-version and returns why
// it is unacceptable, or "".
func (t *tracker) requestLine(line []byte) string {
	if t.requests == 0 && t.blk.leadingCRLF == 0 && string(line) == h2Preface[:len(h2Preface)-4] {
		t.blk.pri = true
		return ""
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return "malformed request line; want method SP target SP version"
	}
	method := line[:sp]
	for _, c := range method {
		if !isTchar(c) {
			return "invalid byte in the request method"
		}
	}
	rest := line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return "malformed request line; want method SP target SP version"
	}
	for _, c := range rest[:sp] {
		if c <= ' ' || c == 0x7f {
			return "invalid byte in the request target"
		}
	}
	switch string(rest[sp+1:]) {
	case "HTTP/1.1":
	case "HTTP/1.0":
		t.blk.http10 = true
	default:
		return "unsupported protocol version; want HTTP/1.1 or HTTP/1.0"
	}
	switch string(method) {
	case "POST":
		t.blk.post = true
	case "CONNECT":
		t.blk.connect = true
	}
	return ""
}

// field checks one field line and records the framing fields; it returns why
// the line is unacceptable, or "".
func (t *tracker) field(line []byte) string {
	if t.blk.pri {
		return "HTTP/2 preface followed by a field line"
	}
	name, value, reason := splitField(line)
	if reason != "" {
		return reason
	}
	switch len(name) {
	case len("content-length"):
		if !equalFold(name, "content-length") {
			return ""
		}
		t.blk.clCount++
		if t.blk.clCount > 1 {
			return "more than one Content-Length field"
		}
		if len(value) == 0 || len(value) > maxCLDigits {
			return "Content-Length is not 1 to 18 decimal digits"
		}
		var n int64
		for _, c := range value {
			if c < '0' || c > '9' {
				return "Content-Length is not 1 to 18 decimal digits"
			}
			n = n*10 + int64(c-'0')
		}
		t.blk.contentLength = n
	case len("transfer-encoding"):
		if !equalFold(name, "transfer-encoding") {
			return ""
		}
		t.blk.teSeen = true
		forEachElement(value, func(e []byte) {
			switch {
			case len(e) == 0:
				t.blk.teBad = true
			case equalFold(e, "chunked"):
				t.blk.teChunked++
				t.blk.teLastChunked = true
			default:
				t.blk.teOther = true
				t.blk.teLastChunked = false
			}
		})
	case len("connection"):
		if equalFold(name, "connection") {
			forEachElement(value, func(e []byte) {
				if equalFold(e, "upgrade") {
					t.blk.connUpgrade = true
				}
			})
		}
	case len("upgrade"):
		if equalFold(name, "upgrade") && len(value) > 0 {
			t.blk.hasUpgrade = true
		}
	}
	return ""
}

// endHeaders decides the framing of a complete, well-formed header block.
func (t *tracker) endHeaders() verdict {
	blk := &t.blk
	if blk.pri {
		t.state = stPassthrough
		t.requests++
		return needMore
	}
	if blk.teSeen {
		switch {
		case blk.http10:
			_, v := t.reject(http.StatusBadRequest, "Transfer-Encoding in an HTTP/1.0 request")
			return v
		case blk.clCount > 0:
			_, v := t.reject(http.StatusBadRequest, "both Content-Length and Transfer-Encoding")
			return v
		case blk.teBad || !blk.teLastChunked:
			_, v := t.reject(http.StatusBadRequest, "Transfer-Encoding does not end in chunked")
			return v
		case blk.teChunked > 1:
			_, v := t.reject(http.StatusBadRequest, "Transfer-Encoding lists chunked more than once")
			return v
		case blk.teOther:
			_, v := t.reject(http.StatusNotImplemented, "Transfer-Encoding lists a coding other than chunked")
			return v
		}
	}
	t.requests++
	t.lastPOST = blk.post
	t.upgrade = blk.connect || (blk.connUpgrade && blk.hasUpgrade)
	switch {
	case blk.teSeen:
		t.state = stChunkSize
	case blk.contentLength > 0:
		t.state = stBodyLength
		t.remain = blk.contentLength
	case t.upgrade:
		t.state = stPassthrough
	}
	return needMore
}

// chunkSize reads the chunk-size line at the start of b. It returns the
// line's length, or 0 while the line is incomplete, and false if the line is
// malformed.
func (t *tracker) chunkSize(b []byte) (int, bool) {
	i := bytes.IndexByte(b[t.off:], '\n')
	if i < 0 {
		t.off = len(b)
		return 0, len(b) < maxChunkLine
	}
	end := t.off + i + 1
	t.off = 0
	if end > maxChunkLine || end < 3 || b[end-2] != '\r' {
		return 0, false
	}
	line := b[:end-2]
	var n uint64
	digits := 0
hex:
	for ; digits < len(line); digits++ {
		c := line[digits]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			break hex
		}
		if digits == 16 {
			return 0, false
		}
		n = n<<4 | uint64(c)
	}
	if digits == 0 || n > maxChunkSize {
		return 0, false
	}
	if ext := line[digits:]; len(ext) > 0 {
		if ext[0] != ';' {
			return 0, false
		}
		for _, c := range ext {
			if !isFieldValueByte(c) {
				return 0, false
			}
		}
	}
	if n == 0 {
		t.state = stTrailer
	} else {
		t.state = stChunkData
		t.remain = int64(n)
	}
	return end, true
}

// trailer reads the trailer section at the start of b. It returns the
// section's length, or 0 while it is incomplete, and false if it is
// malformed.
func (t *tracker) trailer(b []byte) (int, bool) {
	for {
		i := bytes.IndexByte(b[t.off:], '\n')
		if i < 0 {
			return 0, len(b) <= t.maxHeaderBytes
		}
		end := t.off + i + 1
		if end > t.maxHeaderBytes || i == 0 || b[t.off+i-1] != '\r' {
			return 0, false
		}
		line := b[t.off : t.off+i-1]
		t.off = end
		if len(line) == 0 {
			t.off = 0
			return end, true
		}
		if _, _, reason := splitField(line); reason != "" {
			return 0, false
		}
	}
}

// splitField splits a field line into its name and its value without
// surrounding OWS, or returns why the line is malformed.
func splitField(line []byte) (name, value []byte, reason string) {
	if line[0] == ' ' || line[0] == '\t' {
		return nil, nil, "obs-fold (line folding) in the header"
	}
	colon := -1
	for i, c := range line {
		if c == ':' {
			colon = i
			break
		}
		if !isTchar(c) {
			return nil, nil, "invalid byte in a field name (whitespace before the colon?)"
		}
	}
	if colon <= 0 {
		return nil, nil, "field line without a name and colon"
	}
	value = line[colon+1:]
	for _, c := range value {
		if !isFieldValueByte(c) {
			return nil, nil, "control byte in a field value"
		}
	}
	return line[:colon], trimOWS(value), ""
}

// forEachElement calls fn with each comma-separated element of a list field
// value, without surrounding OWS.
func forEachElement(v []byte, fn func([]byte)) {
	for {
		i := bytes.IndexByte(v, ',')
		if i < 0 {
			fn(trimOWS(v))
			return
		}
		fn(trimOWS(v[:i]))
		v = v[i+1:]
	}
}

// trimOWS removes leading and trailing spaces and tabs.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b equals the lower-case ASCII string lower,
// ignoring ASCII case.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// Bit masks of the RFC 9110 tchar set for bytes 0-63 and 64-127.
const (
	tcharLo uint64 = 0x3ff6cfa00000000
	tcharHi uint64 = 0x57ffffffc7fffffe
)

// isTchar reports whether c may appear in a token (RFC 9110 section 5.6.2).
func isTchar(c byte) bool {
	if c < 64 {
		return tcharLo>>c&1 != 0
	}
	if c < 128 {
		return tcharHi>>(c-64)&1 != 0
	}
	return false
}

// isFieldValueByte reports whether c may appear in a field value: VCHAR, SP,
// HTAB or obs-text.
func isFieldValueByte(c byte) bool {
	return c >= ' ' && c != 0x7f || c == '\t'
}
