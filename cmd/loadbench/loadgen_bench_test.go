package main

import (
	"testing"
	"time"
)

func BenchmarkRespReaderRead(b *testing.B) {
	cases := []struct {
		name string
		in   string
	}{
		{name: "content-length", in: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Wed, 25 Nov 2026 08:33:35 GMT\r\nContent-Length: 100\r\n\r\n" + backendBody},
		{name: "chunked", in: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + backendBody + "\r\n0\r\n\r\n"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			rr := newRespReader(&loopReader{data: []byte(c.in)}, 32<<10)
			var resp response
			for b.Loop() {
				if err := rr.read(&resp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	b.ReportAllocs()
	h := NewHistogram()
	d := time.Duration(0)
	for b.Loop() {
		d = (d + 7919) & (1<<26 - 1)
		h.Record(d)
	}
}

func BenchmarkHistogramPercentile(b *testing.B) {
	b.ReportAllocs()
	h := NewHistogram()
	for i := range 100_000 {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for b.Loop() {
		_ = h.Percentile(99)
	}
}
