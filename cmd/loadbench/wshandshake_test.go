package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWSAccept(t *testing.T) {
	// RFC 6455 section 1.3's worked example.
	assert.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", wsAccept(wsKey))
}

func TestBuildWSHandshake(t *testing.T) {
	exp := "GET /ws/fn HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: loadbench\r\n\r\n"
	assert.Equal(t, exp, string(buildWSHandshake("127.0.0.1:8080", "/ws/fn", wsKey)))
}

func TestCheckWSHandshake(t *testing.T) {
	const ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	tests := []struct {
		name   string
		in     string
		expErr string
	}{
		{name: "ok", in: ok},
		{
			name: "header names and tokens in any case",
			in:   "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, UPGRADE\r\nsec-websocket-accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		},
		{name: "no blank line", in: ok[:len(ok)-2], expErr: "the handshake response does not end with a blank line"},
		{name: "not HTTP", in: "SSH-2.0-OpenSSH\r\n\r\n", expErr: `the handshake response starts with "SSH-2.0-OpenSSH", not an HTTP/1.1 status line`},
		{
			name:   "refused",
			in:     "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\n\r\n",
			expErr: `the handshake got "HTTP/1.1 426 Upgrade Required", want 101 Switching Protocols`,
		},
		{
			name:   "malformed header",
			in:     "HTTP/1.1 101 Switching Protocols\r\nUpgrade websocket\r\n\r\n",
			expErr: `the handshake response has a malformed header line "Upgrade websocket"`,
		},
		{
			name:   "no Upgrade",
			in:     "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n",
			expErr: `the 101 response has Upgrade "", want websocket`,
		},
		{
			name:   "no upgrade token",
			in:     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n\r\n",
			expErr: `the 101 response has Connection "keep-alive", want one with upgrade`,
		},
		{
			name:   "wrong accept",
			in:     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n",
			expErr: `the 101 response has Sec-WebSocket-Accept "x", want "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" for key "dGhlIHNhbXBsZSBub25jZQ=="`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkWSHandshake([]byte(tc.in), wsKey)
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestReadWSHandshake(t *testing.T) {
	const resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
	tests := []struct {
		name   string
		writes []string // what the server sends, one write each, then it closes
		bufLen int
		exp    string
		expErr string
	}{
		{name: "one write", writes: []string{resp}, exp: resp},
		{name: "split across writes", writes: []string{"HTTP/1.1 101 Swi", "tching Protocols\r\nUpgrade: websocket\r\n\r", "\n"}, exp: resp},
		{name: "a frame after it", writes: []string{resp + "\x81\x00"}, expErr: "2 unexpected bytes after the handshake response"},
		{name: "closed early", writes: []string{"HTTP/1.1 101 Switching"}, expErr: "read the handshake response after 22 bytes: EOF"},
		{name: "too long", writes: []string{resp}, bufLen: 16, expErr: "no blank line in the first 16 bytes of the handshake response"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			go func() {
				defer server.Close()
				for _, w := range tc.writes {
					if _, err := server.Write([]byte(w)); err != nil {
						return
					}
				}
			}()
			buf := make([]byte, maxHandshakeResponse)
			if tc.bufLen > 0 {
				buf = buf[:tc.bufLen]
			}
			got, err := readWSHandshake(client, buf)
			if tc.expErr != "" {
				require.EqualError(t, err, tc.expErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.exp, string(got))
		})
	}
}
