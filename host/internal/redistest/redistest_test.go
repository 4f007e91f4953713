package redistest

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKillRestartSamePort(t *testing.T) {
	s := NewServer(t)
	addr := s.Addr()
	require.NoError(t, ping(addr))

	s.Kill()
	_, err := net.Dial("tcp", addr)
	assert.Error(t, err, "a killed server must refuse connections")
	s.Kill() // idempotent

	s.Restart()
	assert.Equal(t, addr, s.Addr())
	require.NoError(t, ping(addr))
}

func TestStartStop(t *testing.T) {
	addr, stop := Start(t)
	require.NoError(t, ping(addr))
	stop()
	assert.Error(t, ping(addr))
	stop()
}
