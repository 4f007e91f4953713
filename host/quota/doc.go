// Package quota counts requests against usage-plan quotas: at most limit
// requests per key per calendar period, like the quotas of AWS API Gateway
// usage plans.
//
// Periods are UTC calendar periods: a day starts at 00:00 UTC, a week at
// 00:00 UTC on Monday and a month at 00:00 UTC on its first day. The count
// starts again at zero at each period start; nothing carries over.
//
// Besides the period counters, every admitted request is also counted per
// UTC day so the admin API can report usage per key per day.
//
// Two implementations share the Counter interface: Local, in process
// memory, and Redis, shared by every gateway instance using one Redis. The
// Redis counter decides in one round trip with a Lua script that reads the
// counter, refuses when it has reached the limit and otherwise increments
// both counters, atomically; so no number of instances can push a key past
// its limit.
package quota
