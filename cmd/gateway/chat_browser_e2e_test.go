package main

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmgate/gateway/sdk/go/wasmtest"
)

// browserStep bounds one browser step: an action, or a wait for the page.
const browserStep = 30 * time.Second

// chromiumPath finds a Chromium or Chrome binary. Without one the test skips,
// unless CHROMIUM_REQUIRE=1 (set by .ci/run), which makes it fail.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no chromium on PATH; install it with: apt-get install chromium"
	if os.Getenv("CHROMIUM_REQUIRE") == "1" {
		t.Fatal(msg + " (CHROMIUM_REQUIRE=1)")
	}
	t.Skip(msg)
	return ""
}

// chatTab is one browser tab on the chat page.
type chatTab struct {
	t    *testing.T
	name string // for failure messages
	ctx  context.Context
	p    *proc
}

// openChat opens a tab of the browser in parent on the chat page. The tab
// closes when close is called or parent ends.
func openChat(t *testing.T, parent context.Context, name string, p *proc) (tab *chatTab, close func()) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent)
	tab = &chatTab{t: t, name: name, ctx: ctx, p: p}
	// The first Do on a context opens its tab, whose life is then that of
	// ctx, so it gets no timeout of its own (parent has one).
	require.NoError(t, chromedp.Do(ctx), "open tab %s", name)
	tab.do("load the page", chromedp.Navigate(p.URL("/chat")), chromedp.WaitVisible(chromedp.CSS("#name")))
	return tab, cancel
}

// do runs actions in the tab within browserStep.
func (c *chatTab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.t.Fatalf("tab %s: %s: %v\n%s\ngateway logs:\n%s", c.name, what, err, c.state(), c.p.Logs())
	}
}

// eval evaluates a JavaScript expression in the tab within browserStep.
func eval[T any](c *chatTab, expr string) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(c.t, err, "tab %s: evaluate %s", c.name, expr)
	return v
}

// waitFor waits (bounded) until the JavaScript predicate is true. It checks
// on every DOM change rather than on animation frames, which a background
// tab does not get.
func (c *chatTab) waitFor(what, predicate string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, browserStep)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(browserStep)))
	if err != nil {
		c.t.Fatalf("tab %s: waiting for %s: %v\n%s\ngateway logs:\n%s", c.name, what, err, c.state(), c.p.Logs())
	}
}

// waitStatus waits for the status line to read exactly s.
func (c *chatTab) waitStatus(s string) {
	c.t.Helper()
	c.waitFor("status "+js(s), `document.getElementById("status").textContent === `+js(s))
}

// waitLine waits for a log line that reads exactly s.
func (c *chatTab) waitLine(s string) {
	c.t.Helper()
	c.waitFor("log line "+js(s), `Array.from(document.querySelectorAll("#log p")).some(p => p.textContent === `+js(s)+`)`)
}

func (c *chatTab) status() string {
	return eval[string](c, `document.getElementById("status").textContent`)
}

func (c *chatTab) lines() []string {
	return eval[[]string](c, `Array.from(document.querySelectorAll("#log p"), p => p.textContent)`)
}

// join types name and clicks Join.
func (c *chatTab) join(name string) {
	c.t.Helper()
	c.do("join as "+name, chromedp.SendKeys(chromedp.CSS("#name"), name), chromedp.Click(chromedp.CSS("#join")))
}

// state describes the page for failure messages; it must not fail itself.
func (c *chatTab) state() string {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`"status: " + document.getElementById("status").textContent + "\nlog:\n" + Array.from(document.querySelectorAll("#log p"), p => "  " + p.textContent).join("\n")`))
	if err != nil {
		return fmt.Sprintf("(page state unavailable: %v)", err)
	}
	return s
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestChatBrowser runs examples/chat as a user would: the real chat.hcl and
// index.html, in tabs of a headless Chromium.
func TestChatBrowser(t *testing.T) {
	exe := chromiumPath(t)
	cfg, err := filepath.Abs("../../examples/chat/chat.hcl")
	require.NoError(t, err)
	t.Setenv("CHAT_LISTEN", "127.0.0.1:0")
	t.Setenv("CHAT_ADMIN", "127.0.0.1:0")
	t.Setenv("CHAT_FUNCTION", wasmtest.Build(t, "../../examples/functions/chat"))
	p := startGatewayFile(t, cfg)

	// The page itself.
	code, hdr, body := get(t, client(), p.URL("/chat"))
	require.Equal(t, http.StatusOK, code, body)
	mt, _, err := mime.ParseMediaType(hdr.Get("Content-Type"))
	require.NoError(t, err)
	assert.Equal(t, "text/html", mt)
	assert.Contains(t, body, `<button id="join"`)

	// One browser for the whole test; every step below has its own bound.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // we run as root in CI
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	require.NoError(t, chromedp.Do(browserCtx), "start %s", exe)

	// Tab A: an empty name is refused by the page (required): no connection.
	a, closeA := openChat(t, browserCtx, "A", p)
	defer closeA()
	a.do("click Join with no name", chromedp.Click(chromedp.CSS("#join")))
	assert.True(t, eval[bool](a, `document.getElementById("name").validity.valueMissing`))
	assert.Equal(t, "not connected", a.status())

	a.join("ann")
	a.waitStatus("connected as ann")

	// Tab C: a 33-character name. Typing stops at the input's maxlength
	// (32); set by script, it reaches the function, whose $connect answers
	// 400, so the handshake fails and the browser reports 1006.
	c, closeC := openChat(t, browserCtx, "C", p)
	long := strings.Repeat("x", 33)
	c.do("type a 33-character name", chromedp.SendKeys(chromedp.CSS("#name"), long))
	assert.Len(t, eval[string](c, `document.getElementById("name").value`), 32)
	c.do("join with a 33-character name", chromedp.SetValue(chromedp.CSS("#name"), long), chromedp.Click(chromedp.CSS("#join")))
	c.waitStatus("disconnected (1006)")
	assert.Equal(t, []string{"connection error"}, c.lines())
	assert.True(t, eval[bool](c, `document.getElementById("send").disabled`), "Send stays disabled")
	assert.Eventually(t, func() bool {
		return strings.Contains(p.Logs(), `"path":"/chat/ws","route":"GET /chat/ws","status":400`)
	}, 10*time.Second, 20*time.Millisecond, "the gateway logs the refused handshake:\n%s", p.Logs())
	closeC()

	// Tab B joins; A hears of it.
	b, closeB := openChat(t, browserCtx, "B", p)
	defer closeB()
	b.join("bob")
	b.waitStatus("connected as bob")
	a.waitLine("bob joined")

	// B sends; everyone, B included, gets the broadcast.
	const msg = "hello from bob's tab"
	b.do("send a message", chromedp.SendKeys(chromedp.CSS("#text"), msg), chromedp.Click(chromedp.CSS("#send")))
	b.waitLine("bob: " + msg)
	a.waitLine("bob: " + msg)
	assert.Empty(t, eval[string](b, `document.getElementById("text").value`), "the page clears the input after sending")

	// Who is here? is a two-way route: only A gets the answer.
	a.do("click Who is here?", chromedp.Click(chromedp.CSS("#who")))
	a.waitLine("here: ann, bob")

	// Closing tab B closes its WebSocket; $disconnect tells A.
	closeB()
	a.waitLine("bob left")

	assert.Equal(t, []string{"bob joined", "bob: " + msg, "here: ann, bob", "bob left"}, a.lines())
	assert.Equal(t, "connected as ann", a.status())
}
