package main

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// wsKey is the Sec-WebSocket-Key of every raw handshake wsidle sends: the
// sample nonce of RFC 6455 section 1.3. The server only needs 16 random-looking
// bytes in base64, and one fixed key lets the client skip a random source and a
// SHA-1 per connection.
const wsKey = "dGhlIHNhbXBsZSBub25jZQ=="

// wsGUID is the GUID RFC 6455 appends to the key to compute the accept value.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// maxHandshakeResponse bounds the 101 response wsidle reads.
const maxHandshakeResponse = 4 << 10

// wsAccept returns the Sec-WebSocket-Accept a server must answer key with:
// base64(SHA-1(key + GUID)).
func wsAccept(key string) string {
	sum := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// buildWSHandshake returns the opening handshake of a WebSocket client for
// path on host, with key as its Sec-WebSocket-Key.
func buildWSHandshake(host, path, key string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\n" +
		"Host: " + host + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"User-Agent: loadbench\r\n\r\n")
}

// checkWSHandshake checks the server's answer to a handshake sent with key:
// resp is the status line and headers up to and including the blank line. It
// wants 101 with Upgrade: websocket, an upgrade token in Connection and the
// Sec-WebSocket-Accept that matches key.
func checkWSHandshake(resp []byte, key string) error {
	head, ok := bytes.CutSuffix(resp, []byte("\r\n\r\n"))
	if !ok {
		return errors.New("the handshake response does not end with a blank line")
	}
	lines := strings.Split(string(head), "\r\n")
	status := lines[0]
	proto, rest, _ := strings.Cut(status, " ")
	code, _, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(proto, "HTTP/1.") || len(code) != 3 {
		return fmt.Errorf("the handshake response starts with %q, not an HTTP/1.1 status line", status)
	}
	if code != "101" {
		return fmt.Errorf("the handshake got %q, want 101 Switching Protocols", status)
	}
	var upgrade, connection, accept string
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return fmt.Errorf("the handshake response has a malformed header line %q", l)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "upgrade":
			upgrade = value
		case "connection":
			connection = value
		case "sec-websocket-accept":
			accept = value
		}
	}
	if !strings.EqualFold(upgrade, "websocket") {
		return fmt.Errorf("the 101 response has Upgrade %q, want websocket", upgrade)
	}
	if !hasToken([]byte(connection), "upgrade") {
		return fmt.Errorf("the 101 response has Connection %q, want one with upgrade", connection)
	}
	if want := wsAccept(key); accept != want {
		return fmt.Errorf("the 101 response has Sec-WebSocket-Accept %q, want %q for key %q", accept, want, key)
	}
	return nil
}

// readWSHandshake reads the server's handshake response into buf and returns
// it through the blank line that ends it. A server that sends bytes after the
// response (a frame before the client spoke) is an error: the connection is
// meant to stay idle.
func readWSHandshake(c net.Conn, buf []byte) ([]byte, error) {
	n := 0
	for {
		if n == len(buf) {
			return nil, fmt.Errorf("no blank line in the first %d bytes of the handshake response", len(buf))
		}
		k, err := c.Read(buf[n:])
		n += k
		if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
			if end := i + 4; end != n {
				return nil, fmt.Errorf("%d unexpected bytes after the handshake response", n-end)
			}
			return buf[:n], nil
		}
		if err != nil {
			return nil, fmt.Errorf("read the handshake response after %d bytes: %w", n, err)
		}
	}
}

// dialWS opens a WebSocket connection to path on addr with a raw handshake
// (key wsKey) and leaves it idle. buf is scratch space for the response.
func dialWS(ctx context.Context, d *net.Dialer, addr string, req, buf []byte) (net.Conn, error) {
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var resp []byte
	if _, err = c.Write(req); err == nil {
		resp, err = readWSHandshake(c, buf)
	}
	if err == nil {
		err = checkWSHandshake(resp, wsKey)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("handshake with %s: %w", addr, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}
