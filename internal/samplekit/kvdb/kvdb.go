package kvdb

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/stitchnfv/stitch/internal/samplekit"
)

// MaxValue bounds a PUT body.
const MaxValue = 1 << 20

// Handler serves the store over HTTP.
type Handler struct {
	rt    *samplekit.Runtime
	store *Store
	mux   *http.ServeMux
}

// Counter is the JSON answer of an increment.
type Counter struct {
	Key   string `json:"key"`
	Value int64  `json:"value"`
}

// New serves store: GET, PUT and DELETE /kv/{key}, POST /kv/{key}/incr.
func New(rt *samplekit.Runtime, store *Store) *Handler {
	h := &Handler{rt: rt, store: store, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /kv/{key}", h.get)
	h.mux.HandleFunc("PUT /kv/{key}", h.put)
	h.mux.HandleFunc("DELETE /kv/{key}", h.del)
	h.mux.HandleFunc("POST /kv/{key}/incr", h.incr)
	return h
}

// ServeHTTP answers with this hop added to the trace: the database is
// the end of every path.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(samplekit.TraceHeader, samplekit.AppendHop(r.Header.Get(samplekit.TraceHeader), h.rt.Hop()))
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	v, ok := h.store.Get(key)
	if !ok {
		samplekit.WriteProblem(w, http.StatusNotFound, h.rt.Hop(), fmt.Sprintf("no key %q", key))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(v)
}

func (h *Handler) put(w http.ResponseWriter, r *http.Request) {
	v, status, err := readValue(w, r)
	if err != nil {
		samplekit.WriteProblem(w, status, h.rt.Hop(), err.Error())
		return
	}
	if err := h.store.Put(r.PathValue("key"), v); err != nil {
		h.storageFailed(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) del(w http.ResponseWriter, r *http.Request) {
	// Deleting a missing key succeeds: the caller wanted it gone.
	if _, err := h.store.Delete(r.PathValue("key")); err != nil {
		h.storageFailed(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) incr(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	delta := int64(1)
	if s := r.URL.Query().Get("by"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			samplekit.WriteProblem(w, http.StatusBadRequest, h.rt.Hop(), fmt.Sprintf("by=%q: want an integer", s))
			return
		}
		delta = n
	}
	n, err := h.store.Incr(key, delta)
	switch {
	case errors.Is(err, ErrNotInteger):
		samplekit.WriteProblem(w, http.StatusConflict, h.rt.Hop(), err.Error())
	case err != nil:
		h.storageFailed(w, err)
	default:
		samplekit.WriteJSON(w, http.StatusOK, Counter{Key: key, Value: n})
	}
}

func (h *Handler) storageFailed(w http.ResponseWriter, err error) {
	h.rt.Stats.Errors.Add(1)
	h.rt.Logger.Error("write not persisted", "err", err)
	samplekit.WriteProblem(w, http.StatusInternalServerError, h.rt.Hop(), "write not persisted")
}

// readValue reads a PUT body; the status says whether it was too large or
// broken.
func readValue(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	v, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxValue))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("value larger than %d bytes", MaxValue)
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Errorf("read value: %w", err)
	}
	return v, 0, nil
}
