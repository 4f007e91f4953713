package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
)

// KeySeparator separates the readable parts of a key from each other and
// from the hash.
const KeySeparator = "|"

// Key returns the cache key of a request:
//
//	<path>|<METHOD>|<sha256 hex>
//
// The readable path and method let DeletePrefix invalidate by path (see
// RoutePrefix); the hash covers the method, the path and the selected
// request parameters, so the key has a bounded length whatever the query.
//
// selectQuery names the query parameters that are part of the key. When it
// is nil, every query parameter is; when it is empty but not nil, none is.
// selectHeaders names the request headers that are part of the key (none
// when empty). Names are sorted (header names are canonicalised first), so
// the order of parameters in the request or in the selection does not
// change the key; the order of repeated values of one parameter does. An
// absent parameter and a parameter with an empty value give different keys.
func Key(method, path string, query url.Values, selectQuery []string, header http.Header, selectHeaders []string) string {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	writeField(h, buf[:], method)
	writeField(h, buf[:], path)

	h.Write([]byte{'Q'})
	names := selectQuery
	if names == nil {
		names = make([]string, 0, len(query))
		for k := range query {
			names = append(names, k)
		}
	} else {
		names = slices.Clone(names)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, k := range names {
		writeValues(h, buf[:], k, query[k])
	}

	h.Write([]byte{'H'})
	hnames := make([]string, len(selectHeaders))
	for i, k := range selectHeaders {
		hnames[i] = textproto.CanonicalMIMEHeaderKey(k)
	}
	slices.Sort(hnames)
	hnames = slices.Compact(hnames)
	for _, k := range hnames {
		writeValues(h, buf[:], k, header[k])
	}

	var sum [sha256.Size]byte
	return RoutePrefix(path) + method + KeySeparator + hex.EncodeToString(h.Sum(sum[:0]))
}

// RoutePrefix returns the prefix shared by the keys of every request to
// path, whatever the method and parameters: DeletePrefix(ctx,
// RoutePrefix(path)) invalidates them. For a path prefix (every path under
// /v1/items/), pass the prefix itself to DeletePrefix instead.
func RoutePrefix(path string) string {
	return path + KeySeparator
}

// writeField writes s length-prefixed, so that field boundaries are
// unambiguous.
func writeField(h hash.Hash, buf []byte, s string) {
	h.Write(binary.AppendUvarint(buf[:0], uint64(len(s))))
	h.Write([]byte(s))
}

func writeValues(h hash.Hash, buf []byte, name string, vals []string) {
	writeField(h, buf, name)
	h.Write(binary.AppendUvarint(buf[:0], uint64(len(vals))))
	for _, v := range vals {
		writeField(h, buf, v)
	}
}
