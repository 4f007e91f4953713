package framing

import (
	"net"
	"strings"
	"testing"
)

// typicalGET is a 326-byte header block of a browser-like API request.
const typicalGET = "GET /api/v1/users/12345/orders?include=items&limit=20 HTTP/1.1\r\n" +
	"Host: api.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101\r\n" +
	"Accept: application/json\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30\r\n" +
	"Connection: keep-alive\r\n" +
	"\r\n"

func BenchmarkTrackerGET(b *testing.B) {
	in := []byte(typicalGET)
	tr := newTracker(1 << 20)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if n, v := tr.advance(in); n != len(in) || v != needMore {
			b.Fatalf("advance = %d, %d; want %d, needMore", n, v, len(in))
		}
	}
}

func BenchmarkTrackerBody64K(b *testing.B) {
	in := []byte("POST /upload HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 65536\r\n\r\n" + strings.Repeat("x", 64<<10))
	tr := newTracker(1 << 20)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if n, v := tr.advance(in); n != len(in) || v != needMore {
			b.Fatalf("advance = %d, %d; want %d, needMore", n, v, len(in))
		}
	}
}

// repeatConn returns the same bytes on every Read.
type repeatConn struct {
	net.Conn
	data []byte
}

func (c *repeatConn) Read(p []byte) (int, error) {
	return copy(p, c.data), nil
}

func BenchmarkConnReadGET(b *testing.B) {
	c := newConn(&repeatConn{data: []byte(typicalGET)}, Options{}.withDefaults())
	p := make([]byte, 4096)
	b.SetBytes(int64(len(typicalGET)))
	b.ReportAllocs()
	for b.Loop() {
		if n, err := c.Read(p); n != len(typicalGET) || err != nil {
			b.Fatalf("Read = %d, %v; want %d, nil", n, err, len(typicalGET))
		}
	}
}
