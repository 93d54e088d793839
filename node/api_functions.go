package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/cloudless-network/cloudless/node/client"
)

// FunctionService answers the serverless endpoints: /v1/functions
// (list, deploy, remove, logs) and POST /v1/topics/{name} (emit). Errors
// wrap ErrBadRequest (400) for a refused deploy or emit and ErrNotFound
// (404) for an unknown function.
type FunctionService interface {
	Functions(ctx context.Context) (client.FunctionList, error)
	// Deploy takes the JSON list of functions as the CLI sent it, so the
	// trigger package owns its decoding.
	Deploy(ctx context.Context, fns json.RawMessage) (client.FunctionList, error)
	RemoveFunction(ctx context.Context, name string) error
	FunctionLogs(ctx context.Context, name string, n int) ([]client.Invocation, error)
	Emit(ctx context.Context, topic string, data []byte) error
}

// maxEmitBody caps POST /v1/topics/{name}: a topic message is at most
// 64 KiB (trigger.MaxTopicMessage).
const maxEmitBody = 64 << 10

func (a *API) functionRoutes(m *http.ServeMux) {
	m.Handle("GET /v1/functions", a.auth(a.getFunctions))
	m.Handle("POST /v1/functions", a.auth(a.postFunctions))
	m.Handle("DELETE /v1/functions/{name}", a.auth(a.deleteFunction))
	m.Handle("GET /v1/functions/{name}/logs", a.auth(a.getFunctionLogs))
	m.Handle("POST /v1/topics/{name}", a.auth(a.postTopic))
}

// functionsUnavailable reports whether the service is missing (and
// answers 503 if so).
func (a *API) functionsUnavailable(w http.ResponseWriter) bool {
	if isNil(a.svc.Functions) {
		unavailable(w, "functions")
		return true
	}
	return false
}

func (a *API) getFunctions(w http.ResponseWriter, r *http.Request) {
	if a.functionsUnavailable(w) {
		return
	}
	l, err := a.svc.Functions.Functions(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if l.Functions == nil {
		l.Functions = []client.Function{}
	}
	writeJSON(w, http.StatusOK, l)
}

func (a *API) postFunctions(w http.ResponseWriter, r *http.Request) {
	if a.functionsUnavailable(w) {
		return
	}
	var fns json.RawMessage
	if !decodeBody(w, r, &fns) {
		return
	}
	if len(fns) == 0 {
		writeError(w, http.StatusBadRequest, "a JSON list of functions is required as the body (deploy with `cloudless deploy`)")
		return
	}
	l, err := a.svc.Functions.Deploy(r.Context(), fns)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

func (a *API) deleteFunction(w http.ResponseWriter, r *http.Request) {
	if a.functionsUnavailable(w) {
		return
	}
	if err := a.svc.Functions.RemoveFunction(r.Context(), r.PathValue("name")); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (a *API) getFunctionLogs(w http.ResponseWriter, r *http.Request) {
	if a.functionsUnavailable(w) {
		return
	}
	n := 0
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: n %q: want a count of records", ErrBadRequest, v))
			return
		}
	}
	logs, err := a.svc.Functions.FunctionLogs(r.Context(), r.PathValue("name"), n)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if logs == nil {
		logs = []client.Invocation{}
	}
	writeJSON(w, http.StatusOK, logs)
}

func (a *API) postTopic(w http.ResponseWriter, r *http.Request) {
	if a.functionsUnavailable(w) {
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEmitBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a topic message is at most %d bytes: publish the data (`cloudless publish`) and send its CID", maxEmitBody))
			return
		}
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if err := a.svc.Functions.Emit(r.Context(), r.PathValue("name"), data); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
