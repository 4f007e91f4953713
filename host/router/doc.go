// Package router normalises request paths and matches method, host and path
// to a route. It is pure: no I/O, no dependencies on other gateway packages.
// The request path goes through Normalize first; the normalised path is both
// what is routed and what is forwarded, so that no route or plugin can be
// bypassed with path tricks.
//
//	path, err := router.Normalize(rawPath) // rawPath as received, still percent-encoded
//	if err != nil {
//		// 400 Bad Request; err.Error() is safe to show the client.
//	}
//	v, res := rt.Match(r.Method, r.Host, path, &params)
//	switch res {
//	case router.NotFound: // 404
//	case router.MethodNotAllowed: // 405, Allow: strings.Join(rt.Allowed(r.Host, path), ", ")
//	}
//	upstreamPath := router.Expand("/internal/{id}/{proxy}", &params)
//
// # Path normalisation
//
// Normalize applies these rules, following RFC 3986 sections 2, 5.2.4 and 6,
// in this order:
//
//  1. The path must start with "/" (so "*" and "" are refused).
//  2. It is refused when it contains a malformed escape ("%" not followed by
//     two hex digits, as in "%G1" or a trailing "%"), an encoded slash or
//     backslash (%2F, %5C, in any case), a raw backslash "\", or a control
//     character (0x00-0x1F or 0x7F) raw or encoded (%00, %0A, %7F...). An
//     encoded separator would let a client hide a segment boundary from the
//     router that a backend later decodes; it is never legitimate in an API
//     path, so it is refused rather than guessed at.
//  3. Escapes of unreserved characters (ALPHA DIGIT "-" "." "_" "~") are
//     decoded: "%7Euser" becomes "~user", "%2e" becomes ".". Every other
//     escape is kept, with its hex digits in upper case: "%c3%a9" becomes
//     "%C3%A9", "%3b" becomes "%3B" (an encoded reserved character is data,
//     not a delimiter, so it stays encoded). Percent-encoded UTF-8 stays
//     encoded.
//  4. Raw bytes that may not appear in a path (space, '"', '#', '<', '>',
//     '?', '[', ']', '^', '`', '{', '|', '}' and every byte from 0x80) are
//     percent-encoded in upper case, so raw UTF-8 "/café" becomes
//     "/caf%C3%A9". Sub-delimiters ("!$&'()*+,;="), ":" and "@" stay as they
//     are.
//  5. Empty segments are removed ("//" becomes "/"), then the dot segments
//     "." and ".." are removed, after the decoding of rule 3: "/a/%2e%2e/b"
//     becomes "/b". ".." above the root stays at the root: "/../a" becomes
//     "/a". A segment is a dot segment only when it is exactly "." or "..":
//     "..;" (as in "/a/..;/b") is an ordinary segment and is kept, ";"
//     included. Backends that strip ";" parameters (some Java servers) can
//     turn it into ".." after routing; route such backends under a prefix
//     that does not depend on it, or deny ";" with a plugin.
//  6. A trailing slash is kept when the input had one, including when the
//     last segment was a dot segment or empty: "/a/b/" stays "/a/b/",
//     "/a/b/." and "/a/b//" become "/a/b/", "/a/b/.." becomes "/a/". The root
//     is "/".
//
// The result is the canonical form: Normalize of a canonical path returns it
// unchanged, without allocating. Errors are *PathError values that match
// ErrBadPath and a specific error (ErrNotAbsolute, ErrBadEscape,
// ErrEncodedSlash, ErrBackslash or ErrControlChar) with errors.Is.
//
// # Route templates
//
// A route has a method, a host pattern and a path template, in the style of
// AWS API Gateway:
//
//   - Literal segments match themselves, case-sensitively, compared in
//     canonical form: the template "/caf%c3%a9" or "/café" matches the
//     request "/caf%C3%A9". Dot segments and empty segments ("//") are not
//     allowed in templates.
//   - "{name}" matches exactly one non-empty segment. A parameter must be a
//     whole segment ("/users/{id}", not "/users/id-{id}"); names use letters,
//     digits, "_" and "-", and are unique within a template.
//   - "{name+}" (greedy, conventionally "{proxy+}") may only be the last
//     segment. It matches one or more remaining segments including the slashes
//     between them and a trailing slash: "/files/{proxy+}" matches
//     "/files/a/b/" with proxy = "a/b/", but not "/files/" or "/files" (as in
//     AWS, "/{proxy+}" does not match "/"; add a route for "/").
//   - A trailing slash is significant: "/users/" and "/users" are different
//     paths and need different routes. A template may end with "/" after a
//     literal or a "{name}".
//   - At most MaxParams parameters per template.
//
// Methods are GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS and ANY. ANY
// matches every request method, including ones not in the list (such requests
// match only ANY routes). HEAD is not served by GET routes (as in AWS): add a
// HEAD or ANY route for it. Request methods are case-sensitive, as in HTTP.
//
// Host patterns are "" (any host), an exact host "api.example.com", or a
// wildcard "*.example.com", which matches one or more labels before
// ".example.com" ("a.example.com", "a.b.example.com") but not
// "example.com" itself. Patterns carry no port. Request hosts are compared
// case-insensitively with their port and one trailing dot removed.
//
// New refuses bad methods, hosts and templates, and duplicates: two routes
// with the same method, the same host pattern and paths of the same shape
// ("/users/{id}" and "/users/{name}" have the same shape).
//
// # Precedence
//
// A route matches a request when its host pattern, path template and method
// all match. When several do, the most specific wins:
//
//  1. Host: exact host, then wildcard hosts from the longest suffix to the
//     shortest, then any host. A less specific host is tried only when no
//     route of the more specific one matches path and method.
//  2. Path, segment by segment from the left: a literal beats "{name}", which
//     beats "{name+}". When the preferred branch finds no route deeper down,
//     matching backtracks and tries the next one: with "/users/me/settings"
//     and "/users/{id}/posts", the request "/users/me/posts" matches the
//     second.
//  3. Method: the request's own method beats ANY on the same template. A
//     template that matches but has no route for the method is skipped like
//     any other non-match, so "GET /users/me" and "DELETE /users/{id}" send
//     "DELETE /users/me" to the second route.
//
// When no route matches, the result is MethodNotAllowed if some template
// matched host and path (Allowed lists the methods that would match), and
// NotFound otherwise.
//
// Matching walks one segment tree per host pattern, with map lookups for
// literal children, so its cost depends on the path's depth and not on the
// number of routes. Match does not allocate.
//
// # Parameters
//
// Params receives the captured values in template order. Values are
// substrings of the normalised path in canonical encoded form, so they can be
// forwarded as they are; Unescape decodes one. Expand builds an upstream path
// from a template such as "/internal/{id}/{proxy}".
package router
