package main

import (
	"context"
	"fmt"
	"os"
	"slices"
)

// wsTemplate is the config template wsidle and wsrtt start the gateway on by
// default.
const wsTemplate = builtinPrefix + "websocket.hcl"

// wsReadyPath is the route a WebSocket template must answer 200 on, so that
// the benchmark knows the gateway serves.
const wsReadyPath = "/ready"

// wsGateway is the benchmark backend and one gateway process started on a
// WebSocket config template, for wsidle and wsrtt.
type wsGateway struct {
	gw       *child
	logDir   string
	children []*child
}

// startWSGateway starts the backend, then the gateway binary bin on the config
// template tmpl, and waits until the gateway answers 200 on wsReadyPath. On
// error everything it started is stopped again.
func startWSGateway(ctx context.Context, bin, tmpl string) (_ *wsGateway, err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the loadbench binary to start the backend: %w", err)
	}
	logDir, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return nil, fmt.Errorf("create a directory for logs and configs: %w", err)
	}
	g := &wsGateway{logDir: logDir}
	defer func() {
		if err != nil {
			g.stop()
		}
	}()
	backend, err := startBackend(ctx, self, logDir)
	if backend != nil {
		g.children = append(g.children, backend)
	}
	if err != nil {
		return nil, err
	}
	gw, err := startGateway(ctx, bin, tmpl, "http://"+backend.addr, logDir, 0)
	if gw != nil {
		g.children = append(g.children, gw)
	}
	if err != nil {
		return nil, err
	}
	if err := gw.waitReady(ctx, "http://"+gw.addr+wsReadyPath, nil, startupTimeout); err != nil {
		return nil, fmt.Errorf("%w; a WebSocket template must serve GET %s", err, wsReadyPath)
	}
	g.gw = gw
	return g, nil
}

// stop stops every process started, newest first, and removes the logs.
func (g *wsGateway) stop() {
	for _, c := range slices.Backward(g.children) {
		c.stop()
	}
	os.RemoveAll(g.logDir)
}
