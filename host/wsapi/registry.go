package wsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Registry timing: an instance refreshes its heartbeat key every
// heartbeatEvery; the key expires after heartbeatTTL, after which any
// instance sweeps the dead one's connections from the registry.
const (
	heartbeatEvery = 3 * time.Second
	heartbeatTTL   = 10 * time.Second
	redisTimeout   = 2 * time.Second
)

// The operations one instance asks another to do on a connection it holds.
const (
	opSend  = "send"
	opClose = "close"
)

// delivery is a pub/sub message to the instance holding a connection.
type delivery struct {
	Op   string `json:"op"`
	ID   string `json:"id"`
	Data []byte `json:"data,omitempty"`
}

// RedisConfig says where the shared registry lives.
type RedisConfig struct {
	Address     string
	DB          int
	Prefix      string // prepended to every key and channel; default "wsgw:"
	DialTimeout time.Duration
	Timeout     time.Duration
}

// registry is the connection registry shared through Redis. Keys (after the
// prefix):
//
//	ws:conn:ID        hash: the connection's Info fields and its instance
//	ws:alive:INST     heartbeat of an instance, expiring after heartbeatTTL
//	ws:conns:INST     set of the connection ids an instance holds
//	ws:instances      set of the instances that registered connections
//
// and each instance subscribes to the channel ws:to:INST for deliveries.
type registry struct {
	hub    *Hub
	cfg    RedisConfig
	c      *redis.Client
	prefix string
	sub    *redis.PubSub
	stop   chan struct{}
	wg     sync.WaitGroup
}

// SetRedis shares the hub's registry through Redis (nil: this instance
// alone). A new address moves the registry: this instance's connections are
// registered again in the new one.
func (h *Hub) SetRedis(cfg *RedisConfig) {
	h.regMu.Lock()
	defer h.regMu.Unlock()
	if h.closing.Load() {
		return
	}
	old := h.reg.Load()
	if old != nil && cfg != nil && old.cfg == *cfg {
		return
	}
	if old == nil && cfg == nil {
		return
	}
	var reg *registry
	if cfg != nil {
		reg = newRegistry(h, *cfg)
	}
	h.reg.Store(reg)
	if old != nil {
		old.close()
	}
	if reg != nil {
		h.mu.RLock()
		conns := make([]*Conn, 0, len(h.conns))
		for _, c := range h.conns {
			conns = append(conns, c)
		}
		h.mu.RUnlock()
		for _, c := range conns {
			_ = reg.register(h.ctx, c.info(), c.api.Load().MaxDuration)
		}
	}
}

func newRegistry(h *Hub, cfg RedisConfig) *registry {
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = "wsgw:"
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = redisTimeout
	}
	c := redis.NewClient(&redis.Options{
		Addr: cfg.Address, DB: cfg.DB, DialTimeout: cfg.DialTimeout,
		ReadTimeout: timeout, WriteTimeout: timeout,
	})
	r := &registry{hub: h, cfg: cfg, c: c, prefix: prefix + "ws:", stop: make(chan struct{})}
	r.sub = c.Subscribe(context.Background(), r.channel(h.instance))
	r.wg.Add(2)
	go r.receive()
	go r.heartbeat()
	return r
}

func (r *registry) connKey(id string) string    { return r.prefix + "conn:" + id }
func (r *registry) aliveKey(inst string) string { return r.prefix + "alive:" + inst }
func (r *registry) connsKey(inst string) string { return r.prefix + "conns:" + inst }
func (r *registry) instancesKey() string        { return r.prefix + "instances" }
func (r *registry) channel(inst string) string  { return r.prefix + "to:" + inst }
func (r *registry) ctx() (context.Context, func()) {
	return context.WithTimeout(context.Background(), redisTimeout)
}

// register records a connection held by this instance.
func (r *registry) register(ctx context.Context, in Info, maxDuration time.Duration) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
	defer cancel()
	inst := r.hub.instance
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r.connKey(in.ConnectionID), map[string]any{
			"api": in.API, "connectedAt": in.ConnectedAt.UnixNano(), "lastActiveAt": in.LastActiveAt.UnixNano(),
			"sourceIp": in.SourceIP, "userAgent": in.UserAgent, "instance": inst,
		})
		// A record outlives its connection at most by a minute, whatever happens.
		p.Expire(ctx, r.connKey(in.ConnectionID), maxDuration+time.Minute)
		p.SAdd(ctx, r.connsKey(inst), in.ConnectionID)
		p.Set(ctx, r.aliveKey(inst), "1", heartbeatTTL)
		p.SAdd(ctx, r.instancesKey(), inst)
		return nil
	})
	return err
}

// touch records a connection's last activity.
func (r *registry) touch(ctx context.Context, id string, t time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
	defer cancel()
	_ = r.c.HSet(ctx, r.connKey(id), "lastActiveAt", t.UnixNano()).Err()
}

// unregister removes a connection this instance held.
func (r *registry) unregister(ctx context.Context, id string) {
	_, _ = r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.connKey(id))
		p.SRem(ctx, r.connsKey(r.hub.instance), id)
		return nil
	})
}

// lookup reads a connection's record; a record whose instance stopped
// beating is removed and reported gone.
func (r *registry) lookup(ctx context.Context, id string) (Info, error) {
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	m, err := r.c.HGetAll(ctx, r.connKey(id)).Result()
	if err != nil {
		return Info{}, fmt.Errorf("websocket registry: read connection %s: %w", id, err)
	}
	inst := m["instance"]
	if inst == "" {
		return Info{}, ErrGone
	}
	alive, err := r.c.Exists(ctx, r.aliveKey(inst)).Result()
	if err != nil {
		return Info{}, fmt.Errorf("websocket registry: check instance %s: %w", inst, err)
	}
	if alive == 0 {
		r.forget(ctx, inst, id)
		return Info{}, ErrGone
	}
	return Info{
		ConnectionID: id, API: m["api"], ConnectedAt: unixNano(m["connectedAt"]), LastActiveAt: unixNano(m["lastActiveAt"]),
		SourceIP: m["sourceIp"], UserAgent: m["userAgent"], Instance: inst,
	}, nil
}

// deliver asks the instance holding id to send to it or close it.
func (r *registry) deliver(ctx context.Context, id, op string, data []byte) error {
	in, err := r.lookup(ctx, id)
	if err != nil {
		return err
	}
	if op == opSend && int64(len(data)) > r.hub.maxMessage(in.API) {
		return ErrTooLarge
	}
	b, _ := json.Marshal(delivery{Op: op, ID: id, Data: data})
	ctx, cancel := context.WithTimeout(ctx, redisTimeout)
	defer cancel()
	n, err := r.c.Publish(ctx, r.channel(in.Instance), b).Result()
	if err != nil {
		return fmt.Errorf("websocket registry: deliver to instance %s: %w", in.Instance, err)
	}
	if n == 0 { // nobody listens: the instance is gone
		r.forget(ctx, in.Instance, id)
		return ErrGone
	}
	return nil
}

// forget removes a connection of a dead instance.
func (r *registry) forget(ctx context.Context, inst, id string) {
	_, _ = r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.connKey(id))
		p.SRem(ctx, r.connsKey(inst), id)
		return nil
	})
}

// receive serves deliveries for this instance's connections.
func (r *registry) receive() {
	defer r.wg.Done()
	ch := r.sub.Channel()
	for msg := range ch {
		var d delivery
		if err := json.Unmarshal([]byte(msg.Payload), &d); err != nil {
			continue
		}
		c := r.hub.local(d.ID)
		if c == nil {
			continue // it ended meanwhile; its $disconnect ran here
		}
		switch d.Op {
		case opSend:
			go func() {
				if err := r.hub.Send(r.hub.ctx, d.ID, d.Data); err != nil && !errors.Is(err, ErrGone) {
					r.hub.logger.Info("websocket: delivery from another instance failed", "connection_id", d.ID, "error", err)
				}
			}()
		case opClose:
			_ = r.hub.Disconnect(r.hub.ctx, d.ID)
		}
	}
}

// heartbeat keeps this instance's alive key and sweeps dead instances.
func (r *registry) heartbeat() {
	defer r.wg.Done()
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		ctx, cancel := r.ctx()
		if err := r.c.Set(ctx, r.aliveKey(r.hub.instance), "1", heartbeatTTL).Err(); err != nil {
			r.hub.logger.Warn("websocket registry: heartbeat to redis failed", "error", err)
		}
		r.sweep(ctx)
		cancel()
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
	}
}

// sweep removes the connections of instances whose heartbeat expired.
func (r *registry) sweep(ctx context.Context) {
	insts, err := r.c.SMembers(ctx, r.instancesKey()).Result()
	if err != nil {
		return
	}
	for _, inst := range insts {
		if inst == r.hub.instance {
			continue
		}
		if n, err := r.c.Exists(ctx, r.aliveKey(inst)).Result(); err != nil || n > 0 {
			continue
		}
		ids, err := r.c.SMembers(ctx, r.connsKey(inst)).Result()
		if err != nil {
			continue
		}
		_, _ = r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, id := range ids {
				p.Del(ctx, r.connKey(id))
			}
			p.Del(ctx, r.connsKey(inst))
			p.SRem(ctx, r.instancesKey(), inst)
			return nil
		})
		r.hub.logger.Info("websocket registry: removed the connections of a stopped instance", "instance", inst, "connections", len(ids))
	}
}

// close stops the loops and leaves the registry (this instance's
// connections were unregistered as they closed).
func (r *registry) close() {
	close(r.stop)
	_ = r.sub.Close()
	r.wg.Wait()
	ctx, cancel := r.ctx()
	defer cancel()
	if n, err := r.c.SCard(ctx, r.connsKey(r.hub.instance)).Result(); err == nil && n == 0 {
		_, _ = r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, r.aliveKey(r.hub.instance))
			p.SRem(ctx, r.instancesKey(), r.hub.instance)
			return nil
		})
	}
	_ = r.c.Close()
}

func unixNano(s string) time.Time {
	var n int64
	_, _ = fmt.Sscan(s, &n)
	return time.Unix(0, n).UTC()
}
