package wsapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSelectRoute(t *testing.T) {
	tests := []struct {
		name string
		path []string
		msg  string
		text bool
		want string
	}{
		{"top-level field", []string{"action"}, `{"action":"send"}`, true, "send"},
		{"nested field", []string{"meta", "kind"}, `{"meta":{"kind":"join"}}`, true, "join"},
		{"missing", []string{"action"}, `{"other":"x"}`, true, ""},
		{"number", []string{"action"}, `{"action":1}`, true, ""},
		{"null", []string{"action"}, `{"action":null}`, true, ""},
		{"object", []string{"action"}, `{"action":{"a":1}}`, true, ""},
		{"not JSON", []string{"action"}, `send`, true, ""},
		{"array", []string{"action"}, `[{"action":"send"}]`, true, ""},
		{"nested through a string", []string{"meta", "kind"}, `{"meta":"kind"}`, true, ""},
		{"unicode escape", []string{"action"}, `{"action":"s\u00e9nd"}`, true, "sénd"},
		{"binary frames are not selected", []string{"action"}, `{"action":"send"}`, false, ""},
		{"empty", []string{"action"}, ``, true, ""},
		{"trailing garbage", []string{"action"}, `{"action":"send"}x`, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, selectRoute(tt.path, []byte(tt.msg), tt.text))
		})
	}
}

func TestIsUpgrade(t *testing.T) {
	tests := []struct {
		method, conn, upgrade string
		want                  bool
	}{
		{"GET", "Upgrade", "websocket", true},
		{"GET", "keep-alive, Upgrade", "WebSocket", true},
		{"POST", "Upgrade", "websocket", false},
		{"GET", "keep-alive", "websocket", false},
		{"GET", "Upgrade", "h2c", false},
		{"GET", "", "", false},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(tt.method, "http://x/ws", nil)
		if tt.conn != "" {
			r.Header.Set("Connection", tt.conn)
		}
		if tt.upgrade != "" {
			r.Header.Set("Upgrade", tt.upgrade)
		}
		assert.Equal(t, tt.want, isUpgrade(r), "%+v", tt)
	}
}

func BenchmarkSelectRoute(b *testing.B) {
	msg := []byte(`{"action":"sendMessage","text":"hello there, how are you today?","room":"lobby"}`)
	path := []string{"action"}
	for b.Loop() {
		selectRoute(path, msg, true)
	}
}
