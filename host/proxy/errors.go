package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/wasmgate/gateway/host/upstream"
)

// StatusClientClosedRequest is the status recorded in Exchange.Status when the
// client went away before the answer was written (nginx's 499). It is never
// sent.
const StatusClientClosedRequest = 499

// The messages of the error answers Forward writes.
const (
	MessageTimeout            = "Endpoint request timed out"
	MessageBadGateway         = "Bad Gateway"
	MessageUnavailable        = "Service Unavailable"
	MessageBodyTooLarge       = "Request Entity Too Large"
	MessageBadRequestBody     = "Bad Request: cannot read the request body"
	MessageUpgradeUnsupported = "Bad Gateway: the upstream switched protocols but the connection cannot be upgraded"
)

// errorBody is the JSON document of an error answer.
type errorBody struct {
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

// WriteError answers with status and the JSON document
// {"message": message, "requestId": requestID}. It sets Content-Type
// (application/json), Content-Length and X-Content-Type-Options: nosniff, and
// keeps any other header already set on w (Retry-After, Allow, the request
// id...). The whole gateway uses it for its own answers (404, 405, 413, 502,
// 503, 504...). For HEAD requests net/http drops the body.
func WriteError(w http.ResponseWriter, status int, message, requestID string) {
	b, err := json.Marshal(errorBody{Message: message, RequestID: requestID})
	if err != nil { // strings always marshal; keep a valid document regardless
		b = []byte(`{"message":"Internal Server Error"}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	h.Del("Content-Encoding")
	h.Del("Etag")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// UpstreamError is the error Forward reports in Exchange.Err when the exchange
// with a target failed. It unwraps to the transport's error.
type UpstreamError struct {
	// Upstream is the pool's name.
	Upstream string
	// Target is the target tried last ("" when none could be picked).
	Target string
	// Status is the status Forward answered with (499 when it wrote nothing).
	Status int
	// Err is the cause.
	Err error
}

// Error says which upstream and target failed, how, and what the client got.
func (e *UpstreamError) Error() string {
	switch {
	case e.Target == "":
		return "upstream " + strconv.Quote(e.Upstream) + ": " + e.Err.Error()
	case e.Status == StatusClientClosedRequest:
		return "upstream " + strconv.Quote(e.Upstream) + " target " + e.Target + ": " + e.Err.Error() + " (client went away)"
	default:
		return "upstream " + strconv.Quote(e.Upstream) + " target " + e.Target + ": " + e.Err.Error() +
			" (answered " + strconv.Itoa(e.Status) + "; check that the target is up and answers within the route timeout)"
	}
}

// Unwrap returns the cause.
func (e *UpstreamError) Unwrap() error { return e.Err }

// failure is how Forward answers one error.
type failure struct {
	status     int
	message    string
	retryAfter time.Duration
}

// classify maps the error of an exchange to the answer. clientGone reports
// whether the client's own context ended; bodyErr is the error reading the
// client's body, if any.
func classify(err error, clientGone bool, bodyErr error) failure {
	var tooLarge *http.MaxBytesError
	var unavailable *upstream.Unavailable
	switch {
	case bodyErr != nil && errors.As(bodyErr, &tooLarge):
		return failure{status: http.StatusRequestEntityTooLarge, message: MessageBodyTooLarge}
	case clientGone:
		return failure{status: StatusClientClosedRequest}
	case bodyErr != nil:
		return failure{status: http.StatusBadRequest, message: MessageBadRequestBody}
	case errors.As(err, &unavailable):
		return failure{status: http.StatusServiceUnavailable, message: MessageUnavailable, retryAfter: unavailable.RetryAfter}
	case isTimeout(err):
		return failure{status: http.StatusGatewayTimeout, message: MessageTimeout}
	default:
		return failure{status: http.StatusBadGateway, message: MessageBadGateway}
	}
}

// isTimeout reports whether err is a deadline: the exchange's timeout, the
// transport's response header timeout or a connect timeout.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isDialError reports whether err happened while connecting, before any byte
// of the request was sent.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// retryAfterSeconds renders d as whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}
