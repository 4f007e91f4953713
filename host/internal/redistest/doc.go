// Package redistest runs a real, throwaway redis-server for tests.
//
// Each server listens on a free 127.0.0.1 port with persistence disabled
// (--save "" --appendonly no) and a private working directory, and is
// stopped by t.Cleanup. Tests that exercise failure handling can Kill the
// server mid-load and Restart it on the same port, so a go-redis client
// created before the outage can be observed reconnecting by itself.
//
// When redis-server is not on PATH the test is skipped with a message that
// says how to install it; CI installs it, so there these tests always run.
package redistest
