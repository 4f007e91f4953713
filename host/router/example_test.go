package router_test

import (
	"fmt"
	"strings"

	"github.com/wasmgate/gateway/host/router"
)

func Example() {
	rt, err := router.New([]router.Route{
		// Each Value here is the route's upstream path template.
		{Method: "GET", Path: "/users/{id}", Value: "/internal/users/{id}"},
		{Method: "ANY", Host: "*.example.com", Path: "/files/{proxy+}", Value: "/static/{proxy}"},
	})
	if err != nil {
		panic(err)
	}

	var p router.Params
	for _, req := range []struct{ method, host, path string }{
		{"GET", "api.test", "/users/%34%32"},
		{"PUT", "cdn.example.com:443", "/files/a/./b//c/"},
		{"POST", "api.test", "/users/42"},
		{"GET", "api.test", "/users/..%2f..%2fadmin"},
	} {
		path, err := router.Normalize(req.path)
		if err != nil {
			fmt.Println(400, err)
			continue
		}
		v, res := rt.Match(req.method, req.host, path, &p)
		switch res {
		case router.Matched:
			fmt.Println(path, "->", router.Expand(v.(string), &p))
		case router.MethodNotAllowed:
			fmt.Println(405, "Allow:", strings.Join(rt.Allowed(req.host, path), ", "))
		case router.NotFound:
			fmt.Println(404)
		}
	}
	// Output:
	// /users/42 -> /internal/users/42
	// /files/a/b/c/ -> /static/a/b/c/
	// 405 Allow: GET
	// 400 bad request path: encoded slash "%2f" at offset 9; send "/" unencoded as a separator; encoded separators are refused so that no route can be bypassed
}
