package router

import (
	"fmt"
	"testing"
)

// benchRoutes returns n routes mixing literals, parameters, greedy
// parameters, methods and hosts, the way an API gateway config grows: groups
// of routes per service, services spread over exact, wildcard and any hosts.
func benchRoutes(n int) []Route {
	hosts := []string{"", "", "api.example.com", "*.tenant.example.com", "admin.example.com"}
	shapes := []struct{ method, path string }{
		{"GET", "/v1/svc%d/items"},
		{"POST", "/v1/svc%d/items"},
		{"GET", "/v1/svc%d/items/{id}"},
		{"PUT", "/v1/svc%d/items/{id}"},
		{"DELETE", "/v1/svc%d/items/{id}"},
		{"GET", "/v1/svc%d/items/{id}/parts/{part}"},
		{"GET", "/v1/svc%d/items/search"},
		{"ANY", "/v1/svc%d/files/{proxy+}"},
		{"GET", "/v1/svc%d/health/"},
		{"PATCH", "/v1/svc%d/items/{id}/parts/{part}/state"},
	}
	routes := make([]Route, 0, n)
	for i := 0; len(routes) < n; i++ {
		sh := shapes[i%len(shapes)]
		svc := i / len(shapes)
		host := hosts[svc%len(hosts)]
		routes = append(routes, Route{Method: sh.method, Host: host, Path: fmt.Sprintf(sh.path, svc), Value: i})
	}
	return routes
}

type benchRequest struct{ method, host, path string }

// benchRequests returns requests against benchRoutes(n): literal, parameter
// and greedy hits on each kind of host, plus a 404 and a 405.
func benchRequests(n int) []benchRequest {
	svcs := n / 10
	if svcs == 0 {
		svcs = 1
	}
	last := svcs - 1
	mid := svcs / 2
	hostOf := func(svc int) string {
		switch svc % 5 {
		case 2:
			return "api.example.com"
		case 3:
			return "acme.tenant.example.com:8443"
		case 4:
			return "Admin.Example.com"
		}
		return "gateway.internal"
	}
	return []benchRequest{
		{"GET", hostOf(0), "/v1/svc0/items"},
		{"GET", hostOf(mid), fmt.Sprintf("/v1/svc%d/items/12345", mid)},
		{"GET", hostOf(last), fmt.Sprintf("/v1/svc%d/items/search", last)},
		{"GET", hostOf(mid), fmt.Sprintf("/v1/svc%d/items/9/parts/3", mid)},
		{"PUT", hostOf(last), fmt.Sprintf("/v1/svc%d/files/a/b/c.txt", last)},
		{"GET", hostOf(0), "/v1/svc0/health/"},
		{"GET", hostOf(mid), "/v2/unknown/path"},
		{"POST", hostOf(0), "/v1/svc0/items/1/parts/2"},
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			rt, err := New(benchRoutes(n))
			if err != nil {
				b.Fatal(err)
			}
			reqs := benchRequests(n)
			for _, r := range reqs[:6] {
				if _, res := rt.Match(r.method, r.host, r.path, nil); res != Matched {
					b.Fatalf("%s %s%s: %v", r.method, r.host, r.path, res)
				}
			}
			var p Params
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				r := &reqs[i%len(reqs)]
				rt.Match(r.method, r.host, r.path, &p)
			}
		})
	}
}

func BenchmarkNormalize(b *testing.B) {
	for _, bc := range []struct{ name, path string }{
		{"canonical", "/v1/svc12/items/12345/parts/3"},
		{"canonical-escapes", "/v1/files/caf%C3%A9/r%C3%A9sum%C3%A9.pdf"},
		{"dot-segments", "/v1/svc12/./items/../items//12345/"},
		{"lower-hex", "/v1/files/caf%c3%a9/r%c3%a9sum%c3%a9.pdf"},
		{"rejected", "/v1/files/..%2f..%2fetc/passwd"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = Normalize(bc.path)
			}
		})
	}
}
