package abi

// Function backends: a module that answers routes itself, like an AWS Lambda
// behind API Gateway. It is a v1 guest (memory, gateway_abi_v1, optional
// _initialize and on_configure, every gateway_v1 import) that exports
// ExportHandleEvent instead of, or beside, the plugin phases.
//
// One invocation: the host calls handle_event(event_len); the guest reads the
// event JSON (FunctionEvent) with FuncEventGet, writes its response JSON
// (FunctionResponse) with FuncEventRespond and returns 0. A non-zero result, a
// trap, or a response that is missing or not valid JSON is a 502.
const (
	// ExportHandleEvent is "(event_len i32) -> i32": 0 when a response was
	// set with FuncEventRespond; anything else is a function error (502).
	ExportHandleEvent = "handle_event"
	// FuncEventGet: (buf, limit) -> len. The event JSON (FunctionEvent);
	// ResultWrongPhase outside handle_event.
	FuncEventGet = "event_get"
	// FuncEventRespond: (ptr, len) -> i32 Result. Sets the response JSON
	// (FunctionResponse); the last call wins. ResultWrongPhase outside
	// handle_event, ResultTooLarge above the host's response cap.
	FuncEventRespond = "event_respond"
)

// FunctionEvent is the event a function receives: the AWS API Gateway HTTP API
// payload format 2.0. Header names are lower case; repeated headers and query
// parameters are joined with ","; cookies are split out of the Cookie header.
// A body that is not valid UTF-8 text is base64-encoded with IsBase64Encoded.
type FunctionEvent struct {
	Version               string            `json:"version"`  // "2.0"
	RouteKey              string            `json:"routeKey"` // "POST /orders/{id}"
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	StageVariables        map[string]string `json:"stageVariables,omitempty"`
	RequestContext        RequestContext    `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

// RequestContext is FunctionEvent.requestContext.
type RequestContext struct {
	RequestID  string      `json:"requestId"`
	RouteKey   string      `json:"routeKey"`
	Stage      string      `json:"stage"` // the api block's stage, or "$default"
	Time       string      `json:"time"`  // "02/Jan/2006:15:04:05 -0700"
	TimeEpoch  int64       `json:"timeEpoch"`
	DomainName string      `json:"domainName"`
	HTTP       HTTPContext `json:"http"`
	// Authorizer holds the properties plugins set before the function ran
	// (property_set), such as "auth.principal"; omitted when there are none.
	Authorizer *Authorizer `json:"authorizer,omitempty"`
}

// HTTPContext is FunctionEvent.requestContext.http.
type HTTPContext struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"` // "HTTP/1.1"
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// Authorizer is FunctionEvent.requestContext.authorizer.
type Authorizer struct {
	// Properties are the request properties set by plugins.
	Properties map[string]string `json:"properties"`
}

// FunctionResponse is what a function returns (payload format 2.0). StatusCode
// 0 means 200; otherwise it is 200 to 599. Headers are set; MultiValueHeaders are added after them;
// every Cookies entry becomes one Set-Cookie header. With IsBase64Encoded the
// body is decoded from standard base64 before it is sent.
type FunctionResponse struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
	Cookies           []string            `json:"cookies,omitempty"`
	Body              string              `json:"body,omitempty"`
	IsBase64Encoded   bool                `json:"isBase64Encoded,omitempty"`
}
