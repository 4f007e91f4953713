// Command jsonguest is the Go wasip1 reactor BenchmarkGuest runs: run(n)
// decodes and encodes a 2 KiB JSON order n times, the kind of work Go plugins
// do (request-validator, transform).
package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

type order struct {
	Item     string   `json:"item"`
	Quantity int      `json:"quantity"`
	Note     string   `json:"note"`
	Tags     []string `json:"tags"`
}

var body = func() []byte {
	var tags []string
	for i := 0; len(strings.Join(tags, ",")) < 1900; i++ {
		tags = append(tags, fmt.Sprintf("%q", fmt.Sprintf("tag-%04d", i)))
	}
	return []byte(`{"item":"book","quantity":3,"note":"gift","tags":[` + strings.Join(tags, ",") + `]}`)
}()

//go:wasmexport run
func run(n int32) {
	for range n {
		var o order
		if err := json.Unmarshal(body, &o); err != nil {
			panic(err)
		}
		if _, err := json.Marshal(o); err != nil {
			panic(err)
		}
	}
}

func main() {}
