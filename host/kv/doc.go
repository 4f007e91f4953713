// Package kv is the key/value store plugins reach through the kv_* host
// functions: the Store interface and an in-memory implementation. A Redis
// backend will implement the same interface.
package kv
