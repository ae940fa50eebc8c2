// The benchmark's Go peer: RustFunction (the area of a circle) as the Azure
// Functions docs show a Go custom handler, with net/http and nothing else.
// It is what a user would otherwise write; see bench/README.md.
//
//   - POST/GET /api/RustFunction: the function itself, for
//     "enableForwardingHttpRequest": true (the quickstart's shape): the host
//     forwards the caller's request and this answer goes back as it is.
//   - POST /RustyFunction: the same function in the host's invocation
//     envelope (the custom-handlers article's InvokeRequest/InvokeResponse),
//     answering the same bytes as rusty_function for bench/run's envelope
//     workload.
//
// It listens on FUNCTIONS_CUSTOMHANDLER_PORT (default 8080), as the docs do.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// As the docs declare them.
type InvokeRequest struct {
	Data     map[string]json.RawMessage
	Metadata map[string]interface{}
}

type InvokeResponse struct {
	Outputs     map[string]interface{}
	Logs        []string
	ReturnValue interface{}
}

// The HTTP output binding's value; fields in the order rusty_function
// writes them, so that both answers are the same bytes.
type httpOutput struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

type area struct {
	Radius float64 `json:"radius"`
	Area   float64 `json:"area"`
}

type failure struct {
	Error string `json:"error"`
}

// The request body's radius, kept raw so that its JSON type can be named
// in the error.
type areaRequest struct {
	Radius json.RawMessage `json:"radius"`
}

const missing = `missing radius: send {"radius": 2.5} as the JSON body, or ?radius=2.5`

// circleArea is the function: the radius from a JSON object body, else from
// the query; a status and the JSON answer.
func circleArea(body []byte, query func(string) (string, bool)) (int, []byte, float64) {
	radius, problem := radiusOf(body, query)
	if problem == "" {
		switch {
		case math.IsNaN(radius) || math.IsInf(radius, 0):
			problem = "radius must be a finite number"
		case radius < 0:
			problem = "radius must not be negative, got " + number(radius)
		case math.IsInf(math.Pi*radius*radius, 0):
			problem = "radius " + number(radius) + " is too large: its area overflows"
		}
	}
	if problem != "" {
		answer, _ := json.Marshal(failure{problem})
		return http.StatusBadRequest, answer, radius
	}
	// +0 turns -0 into 0.
	radius += 0
	answer, _ := json.Marshal(area{radius, math.Pi * radius * radius})
	return http.StatusOK, answer, radius
}

func radiusOf(body []byte, query func(string) (string, bool)) (float64, string) {
	text := bytes.TrimSpace(body)
	if len(text) > 0 {
		if text[0] != '{' {
			return 0, "the request body must be a JSON object"
		}
		var request areaRequest
		if err := json.Unmarshal(text, &request); err != nil {
			return 0, "the request body is not valid JSON: " + err.Error()
		}
		raw := bytes.TrimSpace(request.Radius)
		if len(raw) == 0 || string(raw) == "null" {
			return 0, missing
		}
		switch raw[0] {
		case '"':
			return 0, "radius must be a number, not a string"
		case 't', 'f':
			return 0, "radius must be a number, not a boolean"
		case '[':
			return 0, "radius must be a number, not an array"
		case '{':
			return 0, "radius must be a number, not an object"
		}
		// encoding/json has checked the number grammar; out of range is
		// infinity, refused above as not finite.
		radius, err := strconv.ParseFloat(string(raw), 64)
		if err != nil && !math.IsInf(radius, 0) {
			return 0, "radius must be a number, got " + string(raw)
		}
		return radius, ""
	}
	value, ok := query("radius")
	if !ok {
		return 0, missing
	}
	if strings.Contains(value, ",") {
		return 0, fmt.Sprintf("radius was given more than once (%q); give it once", value)
	}
	radius, err := strconv.ParseFloat(value, 64)
	if err != nil && !math.IsInf(radius, 0) {
		return 0, fmt.Sprintf("radius must be a number, got %q", value)
	}
	return radius, ""
}

// number writes a float as rusty_function's messages and logs do: the
// shortest text that reads back the same.
func number(value float64) string {
	if value == math.Trunc(value) && math.Abs(value) < 1e16 {
		return strconv.FormatFloat(value, 'f', -1, 64)
	}
	return strconv.FormatFloat(value, 'g', -1, 64)
}

// forwarded is the function for a forwarded request (the quickstart's
// handler shape).
func forwarded(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	query := r.URL.Query()
	status, answer, _ := circleArea(body, func(name string) (string, bool) {
		values, ok := query[name]
		return strings.Join(values, ","), ok
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(answer)
}

// The trigger's request inside the envelope: the host sends Query as an
// object (older hosts as a string holding one).
type envelopeRequest struct {
	Body  string
	Query json.RawMessage
}

// invoked is the function called by the host with the envelope (the
// custom-handlers article's handler shape).
func invoked(w http.ResponseWriter, r *http.Request) {
	var invokeRequest InvokeRequest
	if err := json.NewDecoder(r.Body).Decode(&invokeRequest); err != nil {
		http.Error(w, "the invocation envelope is not valid JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	var req envelopeRequest
	if err := json.Unmarshal(invokeRequest.Data["req"], &req); err != nil {
		http.Error(w, "Data.req is not an HTTP request: "+err.Error(), http.StatusBadRequest)
		return
	}
	var query map[string]string
	if err := json.Unmarshal(req.Query, &query); err != nil {
		var text string
		if json.Unmarshal(req.Query, &text) == nil {
			json.Unmarshal([]byte(text), &query)
		}
	}
	status, answer, radius := circleArea([]byte(req.Body), func(name string) (string, bool) {
		value, ok := query[name]
		return value, ok
	})
	id := r.Header.Get("X-Azure-Functions-InvocationId")
	line := fmt.Sprintf("[INFO] RustyFunction invocation=%q radius=%s area=%s status=%d",
		id, number(radius), number(math.Pi*radius*radius), status)
	if status != http.StatusOK {
		var problem failure
		json.Unmarshal(answer, &problem)
		line = fmt.Sprintf("[WARN] RustyFunction invocation=%q status=%d error=%q", id, status, problem.Error)
	}
	invokeResponse := InvokeResponse{
		Outputs: map[string]interface{}{},
		Logs:    []string{line},
		ReturnValue: httpOutput{
			StatusCode: status,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       string(answer),
		},
	}
	responseJson, _ := json.Marshal(invokeResponse)
	w.Header().Set("Content-Type", "application/json")
	w.Write(responseJson)
}

func main() {
	customHandlerPort, exists := os.LookupEnv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if !exists {
		customHandlerPort = "8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/RustFunction", forwarded)
	mux.HandleFunc("/RustyFunction", invoked)
	// Loopback only, as the other servers of the benchmark.
	log.Fatal(http.ListenAndServe("127.0.0.1:"+customHandlerPort, mux))
}
