// Package kv is the key/value store plugins reach through the kv_* host
// functions: the Store interface, an in-memory implementation (Memory, one
// per process) and a Redis one (Redis, shared by every gateway instance on
// the same Redis; selected with kv { backend = "redis" } in HCL).
package kv
