package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/stitchnfv/stitch/nfvo"
)

// nsInstanceRoutes: NS instances and their lifecycle operations (SOL005
// nslcm). Lifecycle operations are asynchronous: they answer 202 with the
// operation occurrence and its Location, and the client polls it.
func (s *server) nsInstanceRoutes() []route {
	const item = pathNsInstances + "/{nsInstanceId}"
	return []route{
		{http.MethodPost, pathNsInstances, s.createNS},
		{http.MethodGet, pathNsInstances, s.listNS},
		{http.MethodGet, item, s.getNS},
		{http.MethodGet, item + "/slots", s.slotReports},
		{http.MethodGet, item + "/routers", s.routers},
		{http.MethodGet, item + "/scaling_policies", s.scalingPolicies},
		{http.MethodGet, item + "/telemetry", s.telemetry},
		{http.MethodPatch, item + "/scaling_policies/{policyId}", s.updatePolicy},
		{http.MethodDelete, item, s.deleteNS},
		{http.MethodPost, item + "/instantiate", lcmOperation(s.svc.Instantiate, bodyOptional)},
		{http.MethodPost, item + "/scale", lcmOperation(s.svc.Scale, bodyRequired)},
		{http.MethodPost, item + "/heal", lcmOperation(s.svc.Heal, bodyOptional)},
		{http.MethodPost, item + "/terminate", lcmOperation(s.svc.Terminate, bodyOptional)},
	}
}

func (s *server) createNS(w http.ResponseWriter, r *http.Request) error {
	var req nfvo.CreateNsRequest
	if err := decodeJSON(w, r, &req, bodyRequired); err != nil {
		return err
	}
	ns, err := s.svc.CreateNS(r.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", pathNsInstances+"/"+url.PathEscape(ns.ID))
	return writeObject(w, r, http.StatusCreated, ns)
}

func (s *server) listNS(w http.ResponseWriter, r *http.Request) error {
	list, err := s.svc.ListNS(r.Context())
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, nonNil(list))
}

func (s *server) getNS(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.svc.GetNS(r.Context(), r.PathValue("nsInstanceId"))
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, ns)
}

func (s *server) slotReports(w http.ResponseWriter, r *http.Request) error {
	reports, err := s.svc.SlotReports(r.Context(), r.PathValue("nsInstanceId"))
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, reports)
}

func (s *server) routers(w http.ResponseWriter, r *http.Request) error {
	views, err := s.svc.Routers(r.Context(), r.PathValue("nsInstanceId"))
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, views)
}

func (s *server) scalingPolicies(w http.ResponseWriter, r *http.Request) error {
	policies, err := s.svc.ScalingPolicies(r.Context(), r.PathValue("nsInstanceId"))
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, policies)
}

func (s *server) telemetry(w http.ResponseWriter, r *http.Request) error {
	reports, err := s.svc.TelemetryReports(r.Context(), r.PathValue("nsInstanceId"))
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, reports)
}

func (s *server) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	var upd nfvo.PolicyUpdate
	if err := decodeJSON(w, r, &upd, bodyRequired); err != nil {
		return err
	}
	st, err := s.svc.UpdatePolicy(r.Context(), r.PathValue("nsInstanceId"), r.PathValue("policyId"), upd)
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, st)
}

func (s *server) deleteNS(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteNS(r.Context(), r.PathValue("nsInstanceId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// lcmOperation adapts one of the Service's lifecycle methods: decode the
// request strictly, start the operation, answer 202 with its occurrence.
func lcmOperation[Req any](start func(context.Context, string, Req) (nfvo.LcmOpOcc, error), rule bodyRule) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req Req
		if err := decodeJSON(w, r, &req, rule); err != nil {
			return err
		}
		op, err := start(r.Context(), r.PathValue("nsInstanceId"), req)
		if err != nil {
			return err
		}
		return writeAccepted(w, r, op)
	}
}

// writeAccepted answers an asynchronous operation: 202, the occurrence to
// poll in Location, and its current state in the body.
func writeAccepted(w http.ResponseWriter, r *http.Request, op nfvo.LcmOpOcc) error {
	w.Header().Set("Location", pathNsLcmOpOccs+"/"+url.PathEscape(op.ID))
	return writeObject(w, r, http.StatusAccepted, op)
}
