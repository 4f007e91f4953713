// Package wsframe follows the frame boundaries of a WebSocket byte stream
// (RFC 6455 section 5.2) without buffering or decoding payloads. The gateway
// uses it to count frames, to refuse frames over a size limit before their
// payload is read, and to know when a close frame can be injected into a
// proxied stream without cutting a frame in two.
package wsframe

// The opcodes of RFC 6455.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// Scanner tracks frame boundaries across arbitrary splits of the stream. The
// zero value is ready and accepts frames of any size.
type Scanner struct {
	// Max is the largest accepted payload length; 0 means no limit.
	Max int64

	hdr    [14]byte
	hn     int   // header bytes seen
	need   int   // header length, known once hn >= 2
	remain int64 // payload bytes of the current frame still to come

	// Frames counts the frame headers completed so far.
	Frames uint64
	// DataFrames counts text, binary and continuation frames.
	DataFrames uint64
}

// Scan feeds b, the next bytes of the stream. It returns false once a frame
// header announces a payload longer than Max; the caller must then stop the
// stream (close code 1009) since the scanner's position is lost.
func (s *Scanner) Scan(b []byte) bool {
	for len(b) > 0 {
		if s.remain > 0 {
			k := int64(len(b))
			if k > s.remain {
				k = s.remain
			}
			s.remain -= k
			b = b[k:]
			continue
		}
		s.hdr[s.hn] = b[0]
		s.hn++
		b = b[1:]
		if s.hn == 2 {
			s.need = 2
			switch s.hdr[1] & 0x7f {
			case 126:
				s.need += 2
			case 127:
				s.need += 8
			}
			if s.hdr[1]&0x80 != 0 {
				s.need += 4
			}
		}
		if s.hn >= 2 && s.hn == s.need {
			n := s.payloadLen()
			if n < 0 || (s.Max > 0 && n > s.Max) {
				return false
			}
			s.Frames++
			if op := s.hdr[0] & 0x0f; op <= OpBinary {
				s.DataFrames++
			}
			s.remain, s.hn, s.need = n, 0, 0
		}
	}
	return true
}

// payloadLen decodes the payload length of the complete header in s.hdr; it
// is negative when the 64-bit length has its most significant bit set.
func (s *Scanner) payloadLen() int64 {
	switch l := s.hdr[1] & 0x7f; l {
	case 126:
		return int64(s.hdr[2])<<8 | int64(s.hdr[3])
	case 127:
		var n uint64
		for _, c := range s.hdr[2:10] {
			n = n<<8 | uint64(c)
		}
		return int64(n)
	default:
		return int64(l)
	}
}

// AtBoundary reports whether the bytes scanned so far end exactly at the end
// of a frame, so that a new frame may be written next.
func (s *Scanner) AtBoundary() bool { return s.remain == 0 && s.hn == 0 }

// CloseFrame returns a close frame with code and reason (reason is cut to
// fit the 125-byte control payload). A client-to-server frame must be
// masked; the mask key is fixed at zero, which RFC 6455 permits the sender to
// choose and which leaves the payload as is.
func CloseFrame(code uint16, reason string, masked bool) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	n := 2 + len(reason)
	f := make([]byte, 0, 2+4+n)
	f = append(f, 0x80|OpClose)
	if masked {
		f = append(f, 0x80|byte(n), 0, 0, 0, 0)
	} else {
		f = append(f, byte(n))
	}
	f = append(f, byte(code>>8), byte(code))
	return append(f, reason...)
}
