package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wasmgate/gateway/host/admin"
	"github.com/wasmgate/gateway/host/quota"
)

// withTrafficAdmin adds the API key and cache endpoints to the admin API:
//
//	POST   /apikeys                 {"consumer":"alice","plan":"gold"} -> 201, the key (shown once) and its record
//	GET    /apikeys/{id}            the record (never the key)
//	DELETE /apikeys/{id}            revoke: 204, or 404
//	PUT    /apikeys/{id}/plan       {"plan":"gold"} attach a plan (also to key-auth keys, by their auth.key_id)
//	GET    /apikeys/{id}/usage?from=2026-01-01&to=2026-01-31   requests per UTC day, and the current quota
//	DELETE /cache?route=GET+/items[&path=/items]              invalidate a route's (or one path's) cached responses
//	DELETE /cache                                             invalidate every cached response
//
// Keys and usage are in Redis when a redis block is declared, so every
// instance sees them; otherwise they live in this process.
func (g *Gateway) withTrafficAdmin(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.HandleFunc("POST /apikeys", g.createKey)
	mux.HandleFunc("GET /apikeys/{id}", g.getKey)
	mux.HandleFunc("DELETE /apikeys/{id}", g.deleteKey)
	mux.HandleFunc("PUT /apikeys/{id}/plan", g.setKeyPlan)
	mux.HandleFunc("GET /apikeys/{id}/usage", g.keyUsage)
	mux.HandleFunc("DELETE /cache", g.invalidateCache)
	g.sh.hub.Mount(mux)
	return mux
}

// adminTraffic returns the serving generation's traffic state, or writes
// 404 when the config has none.
func (g *Gateway) adminTraffic(w http.ResponseWriter) (*generation, *traffic) {
	gen := g.current()
	if gen.traffic == nil {
		gen.release()
		adminError(w, http.StatusNotFound, "the configuration declares no rate_limit, usage_plan or route cache; add one to use this endpoint")
		return nil, nil
	}
	return gen, gen.traffic
}

func adminError(w http.ResponseWriter, status int, msg string) {
	admin.WriteJSON(w, status, map[string]string{"message": msg})
}

// readBody decodes a small JSON request body into v.
func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("decode the JSON body: %v", err))
		return false
	}
	return true
}

func (g *Gateway) createKey(w http.ResponseWriter, r *http.Request) {
	gen, t := g.adminTraffic(w)
	if t == nil {
		return
	}
	defer gen.release()
	var body struct {
		Consumer string `json:"consumer"`
		Plan     string `json:"plan"`
	}
	if !readBody(w, r, &body) {
		return
	}
	if body.Plan != "" && t.plans[body.Plan] == nil {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("usage plan %q is not in the configuration; use one of its usage_plan names", body.Plan))
		return
	}
	ctx := r.Context()
	for range 3 { // ids are 8 hex digits of the hash: retry the rare collision
		key, rec, err := newKey(body.Consumer, body.Plan, time.Now())
		if err != nil {
			adminError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if _, taken, err := t.keys.byID(ctx, rec.ID); err != nil {
			adminError(w, http.StatusServiceUnavailable, err.Error())
			return
		} else if taken {
			continue
		}
		if err := t.keys.put(ctx, rec); err != nil {
			adminError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		t.keys.forget()
		admin.WriteJSON(w, http.StatusCreated, struct {
			Key string `json:"key"`
			*apiKey
		}{key, rec})
		return
	}
	adminError(w, http.StatusInternalServerError, "could not find a free key id after 3 attempts; try again")
}

func (g *Gateway) getKey(w http.ResponseWriter, r *http.Request) {
	gen, t := g.adminTraffic(w)
	if t == nil {
		return
	}
	defer gen.release()
	k, ok, err := t.keys.byID(r.Context(), r.PathValue("id"))
	switch {
	case err != nil:
		adminError(w, http.StatusServiceUnavailable, err.Error())
	case !ok:
		adminError(w, http.StatusNotFound, fmt.Sprintf("no api key has id %q", r.PathValue("id")))
	default:
		admin.WriteJSON(w, http.StatusOK, k)
	}
}

func (g *Gateway) deleteKey(w http.ResponseWriter, r *http.Request) {
	gen, t := g.adminTraffic(w)
	if t == nil {
		return
	}
	defer gen.release()
	ok, err := t.keys.delete(r.Context(), r.PathValue("id"))
	t.keys.forget()
	switch {
	case err != nil:
		adminError(w, http.StatusServiceUnavailable, err.Error())
	case !ok:
		adminError(w, http.StatusNotFound, fmt.Sprintf("no api key has id %q", r.PathValue("id")))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (g *Gateway) setKeyPlan(w http.ResponseWriter, r *http.Request) {
	gen, t := g.adminTraffic(w)
	if t == nil {
		return
	}
	defer gen.release()
	var body struct {
		Plan string `json:"plan"`
	}
	if !readBody(w, r, &body) {
		return
	}
	if body.Plan != "" && t.plans[body.Plan] == nil {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("usage plan %q is not in the configuration; use one of its usage_plan names", body.Plan))
		return
	}
	id := r.PathValue("id")
	if len(id) != 8 || strings.Trim(id, "0123456789abcdef") != "" {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a key id; ids are the first 8 hex digits of the key's SHA-256", id))
		return
	}
	ctx := r.Context()
	k, ok, err := t.keys.byID(ctx, id)
	if err != nil {
		adminError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if !ok { // a key-auth key known only by its auth.key_id
		k = &apiKey{ID: id, Created: time.Now().UTC()}
	}
	k.Plan = body.Plan
	if err := t.keys.put(ctx, k); err != nil {
		adminError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	t.keys.forget()
	admin.WriteJSON(w, http.StatusOK, k)
}

func (g *Gateway) keyUsage(w http.ResponseWriter, r *http.Request) {
	gen, t := g.adminTraffic(w)
	if t == nil {
		return
	}
	defer gen.release()
	now := time.Now().UTC()
	from, to := now, now
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				adminError(w, http.StatusBadRequest, fmt.Sprintf("%s=%q is not a date; write it as YYYY-MM-DD (UTC)", p.name, v))
				return
			}
			*p.dst = d
		}
	}
	ctx := r.Context()
	id := r.PathValue("id")
	k, ok, err := t.keys.byID(ctx, id)
	if err != nil {
		adminError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if !ok {
		adminError(w, http.StatusNotFound, fmt.Sprintf("no api key has id %q", id))
		return
	}
	days, err := t.quota.Usage(ctx, id, from, to)
	if err != nil {
		status := http.StatusServiceUnavailable
		if errors.Is(err, quota.ErrInvalid) {
			status = http.StatusBadRequest
		}
		adminError(w, status, err.Error())
		return
	}
	type day struct {
		Date  string `json:"date"`
		Count int64  `json:"count"`
	}
	type quotaDoc struct {
		Limit     int64     `json:"limit"`
		Used      int64     `json:"used"`
		Remaining int64     `json:"remaining"`
		Period    string    `json:"period"`
		ResetAt   time.Time `json:"reset_at"`
	}
	out := struct {
		ID    string    `json:"id"`
		Plan  string    `json:"plan,omitempty"`
		Days  []day     `json:"days"`
		Quota *quotaDoc `json:"quota,omitempty"`
	}{ID: id, Plan: k.Plan, Days: make([]day, 0, len(days))}
	for _, d := range days {
		out.Days = append(out.Days, day{Date: d.Day.Format(time.DateOnly), Count: d.Used})
	}
	if p := t.plans[k.Plan]; p != nil && p.cfg.Quota != nil {
		u, err := t.quota.Get(ctx, id, p.period)
		if err != nil {
			adminError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		out.Quota = &quotaDoc{Limit: p.cfg.Quota.Limit, Used: u.Used, Remaining: max(p.cfg.Quota.Limit-u.Used, 0), Period: string(p.period), ResetAt: u.ResetAt}
	}
	admin.WriteJSON(w, http.StatusOK, out)
}

func (g *Gateway) invalidateCache(w http.ResponseWriter, r *http.Request) {
	gen, t := g.adminTraffic(w)
	if t == nil {
		return
	}
	defer gen.release()
	if t.cache == nil {
		adminError(w, http.StatusNotFound, "no route has a cache block")
		return
	}
	prefix := ""
	if rk := r.URL.Query().Get("route"); rk != "" {
		found := false
		for _, rc := range gen.cfg.Routes {
			found = found || rc.Key == rk
		}
		if !found {
			adminError(w, http.StatusNotFound, fmt.Sprintf("no route has the key %q; write it as in the config, such as \"GET /v1/items\"", rk))
			return
		}
		prefix = cachePrefix(rk, r.URL.Query().Get("path"))
	}
	n, err := t.cache.DeletePrefix(r.Context(), prefix)
	if err != nil {
		adminError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	admin.WriteJSON(w, http.StatusOK, map[string]int{"deleted": n})
}
