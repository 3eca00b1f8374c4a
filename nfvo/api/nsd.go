package api

import (
	"net/http"
	"net/url"
)

// nsDescriptorRoutes: the NSD catalog (SOL005 nsd). Ids work as for VNF
// packages: "<nsdId>:<version>", or "<nsdId>" for the latest version.
func (s *server) nsDescriptorRoutes() []route {
	return []route{
		{http.MethodPost, pathNsDescriptors, s.onboardNSD},
		{http.MethodGet, pathNsDescriptors, s.listNSDs},
		{http.MethodGet, pathNsDescriptors + "/{nsdInfoId}", s.getNSD},
		{http.MethodDelete, pathNsDescriptors + "/{nsdInfoId}", s.deleteNSD},
		{http.MethodGet, pathNsDescriptors + "/{nsdInfoId}/nsd", s.getNSDDocument},
	}
}

// onboardNSD takes the NSD document (YAML or JSON) as the body.
func (s *server) onboardNSD(w http.ResponseWriter, r *http.Request) error {
	doc, err := readBody(w, r, maxDescriptorBody)
	if err != nil {
		return err
	}
	if doc == nil {
		return badRequest("request body is empty; expected an NSD document (YAML or JSON)")
	}
	info, err := s.svc.OnboardNSD(r.Context(), doc)
	if err != nil {
		return err
	}
	w.Header().Set("Location", pathNsDescriptors+"/"+url.PathEscape(info.ID))
	return writeObject(w, r, http.StatusCreated, info)
}

func (s *server) listNSDs(w http.ResponseWriter, r *http.Request) error {
	infos, err := s.svc.ListNSDs(r.Context())
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, nonNil(infos))
}

func (s *server) getNSD(w http.ResponseWriter, r *http.Request) error {
	info, err := s.svc.GetNSD(r.Context(), r.PathValue("nsdInfoId"))
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, info)
}

func (s *server) deleteNSD(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteNSD(r.Context(), r.PathValue("nsdInfoId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getNSDDocument returns the descriptor as stitch stored it.
func (s *server) getNSDDocument(w http.ResponseWriter, r *http.Request) error {
	info, err := s.svc.GetNSD(r.Context(), r.PathValue("nsdInfoId"))
	if err != nil {
		return err
	}
	return writeJSONBytes(w, r, http.StatusOK, info.Document)
}
