package api

import (
	"context"
	"net/http"

	"github.com/stitchnfv/stitch/nfvo"
)

// opOccRoutes: LCM operation occurrences (SOL005 ns_lcm_op_occs), and the
// operator's decisions on one left in FAILED_TEMP: retry, rollback, fail.
func (s *server) opOccRoutes() []route {
	const item = pathNsLcmOpOccs + "/{nsLcmOpOccId}"
	return []route{
		{http.MethodGet, pathNsLcmOpOccs, s.listOps},
		{http.MethodGet, item, s.getOp},
		{http.MethodPost, item + "/retry", opTask(s.svc.RetryOp)},
		{http.MethodPost, item + "/rollback", opTask(s.svc.RollbackOp)},
		{http.MethodPost, item + "/fail", opTask(s.svc.FailOp)},
	}
}

// listOps filters by ?nsInstanceId= (SOL005 would use its filter grammar;
// one attribute is all stitch needs).
func (s *server) listOps(w http.ResponseWriter, r *http.Request) error {
	ops, err := s.svc.ListOps(r.Context(), r.URL.Query().Get("nsInstanceId"))
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, nonNil(ops))
}

func (s *server) getOp(w http.ResponseWriter, r *http.Request) error {
	op, err := s.svc.GetOp(r.Context(), r.PathValue("nsLcmOpOccId"))
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, op)
}

// opTask adapts retry, rollback and fail: they take no body (any body is
// ignored, as SOL005 defines none) and answer 202 like the operations
// they resume.
func opTask(do func(context.Context, string) (nfvo.LcmOpOcc, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		op, err := do(r.Context(), r.PathValue("nsLcmOpOccId"))
		if err != nil {
			return err
		}
		return writeAccepted(w, r, op)
	}
}
