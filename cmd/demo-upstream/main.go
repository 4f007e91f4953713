// Command demo-upstream is the small HTTP service behind the default
// gateway.hcl, so `make run` shows a working API with no external service.
//
//	GET  /users/{id}        a JSON user (404 for ids above 100)
//	GET  /users             a JSON list
//	ANY  /echo/...          the request as the upstream saw it (method, path, query, headers, body)
//	GET  /status/{code}     answers with that status code
//	GET  /slow?delay=2s     answers after the delay (for timeout demos)
//	GET  /healthz           200 ok (active health checks)
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	name := flag.String("name", "demo-upstream", "name reported in responses (to tell instances apart)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo-upstream: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("demo-upstream %s listening on %s\n", *name, ln.Addr())
	srv := &http.Server{Handler: newMux(*name), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

func newMux(name string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "instance": name})
	})
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		users := make([]map[string]any, 0, 3)
		for i := 1; i <= 3; i++ {
			users = append(users, user(strconv.Itoa(i)))
		}
		writeJSON(w, http.StatusOK, map[string]any{"users": users, "instance": name})
	})
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		n, err := strconv.Atoi(id)
		if err != nil || n < 1 || n > 100 {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "no user " + id})
			return
		}
		u := user(id)
		u["instance"] = name
		writeJSON(w, http.StatusOK, u)
	})
	mux.HandleFunc("/echo/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		writeJSON(w, http.StatusOK, map[string]any{
			"instance": name,
			"method":   r.Method,
			"path":     r.URL.EscapedPath(),
			"query":    r.URL.RawQuery,
			"host":     r.Host,
			"headers":  r.Header,
			"body":     string(body),
		})
	})
	mux.HandleFunc("GET /status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil || code < 200 || code > 599 {
			code = http.StatusBadRequest
		}
		writeJSON(w, code, map[string]any{"status": code, "instance": name})
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("delay"))
		if err != nil {
			d = time.Second
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"slept": d.String(), "instance": name})
	})
	return mux
}

func user(id string) map[string]any {
	return map[string]any{"id": id, "name": "User " + id, "email": "user" + id + "@example.com"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
