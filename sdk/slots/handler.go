package slots

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// Handler serves the budget: GET reads it, PUT {"max": N} changes it.
// Mount it at /slots. logger may be nil.
func Handler(b *Budget, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			writeJSON(w, http.StatusOK, b.Snapshot())
		case http.MethodPut:
			var req struct {
				Max *int `json:"max"`
			}
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil || req.Max == nil || *req.Max < 0 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"max": N} with N >= 0`})
				return
			}
			b.SetMax(*req.Max)
			logger.Info("slots budget changed", "max", *req.Max)
			writeJSON(w, http.StatusOK, b.Snapshot())
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "GET or PUT"})
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
