package wsapi

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/wasmgate/gateway/host/admin"
)

// maxPostBytes caps what POST @connections reads before checking the
// connection's own max_message_size.
const maxPostBytes = 16 << 20

// Mount adds the @connections API to mux, AWS-compatible:
//
//	POST   /@connections/{id}  send the body to the client; 200, 410 Gone, 413
//	GET    /@connections/{id}  200 {"connectedAt","lastActiveAt","identity":{"sourceIp","userAgent"}}
//	DELETE /@connections/{id}  close the connection (1000); 204, 410 Gone
func (h *Hub) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /@connections/{id}", h.postConnection)
	mux.HandleFunc("GET /@connections/{id}", h.getConnection)
	mux.HandleFunc("DELETE /@connections/{id}", h.deleteConnection)
}

func (h *Hub) postConnection(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPostBytes+1))
	if err != nil {
		admin.WriteJSON(w, http.StatusBadRequest, map[string]string{"message": "read the request body: " + err.Error()})
		return
	}
	if len(body) > maxPostBytes {
		admin.WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "PayloadTooLargeException: the message is larger than max_message_size"})
		return
	}
	h.answer(w, id, h.Send(r.Context(), id, body), http.StatusOK)
}

func (h *Hub) getConnection(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, err := h.Get(r.Context(), id)
	if err != nil {
		h.answer(w, id, err, 0)
		return
	}
	admin.WriteJSON(w, http.StatusOK, map[string]any{
		"connectionId": in.ConnectionID,
		"api":          in.API,
		"connectedAt":  in.ConnectedAt.UTC().Format(time.RFC3339Nano),
		"lastActiveAt": in.LastActiveAt.UTC().Format(time.RFC3339Nano),
		"identity":     map[string]string{"sourceIp": in.SourceIP, "userAgent": in.UserAgent},
		"instance":     in.Instance,
	})
}

func (h *Hub) deleteConnection(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	h.answer(w, id, h.Disconnect(r.Context(), id), http.StatusNoContent)
}

// answer writes ok (with no body) or the error's status.
func (h *Hub) answer(w http.ResponseWriter, id string, err error, ok int) {
	switch {
	case err == nil:
		w.WriteHeader(ok)
	case errors.Is(err, ErrGone):
		admin.WriteJSON(w, http.StatusGone, map[string]string{"message": "GoneException: connection " + id + " is not connected", "connectionId": id})
	case errors.Is(err, ErrTooLarge):
		admin.WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "PayloadTooLargeException: the message is larger than max_message_size"})
	default:
		h.logger.Warn("@connections call failed", "connection_id", id, "error", err)
		admin.WriteJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
	}
}
