package api

import (
	"net/http"
	"net/url"
)

// vnfPackageRoutes: the VNF package catalog (SOL005 vnfpkgm). A package is
// one VNFD version; its id is "<vnfdId>:<version>", and "<vnfdId>" alone
// names the latest version.
func (s *server) vnfPackageRoutes() []route {
	return []route{
		{http.MethodPost, pathVnfPackages, s.onboardVNFD},
		{http.MethodGet, pathVnfPackages, s.listVNFDs},
		{http.MethodGet, pathVnfPackages + "/{vnfPkgId}", s.getVNFD},
		{http.MethodDelete, pathVnfPackages + "/{vnfPkgId}", s.deleteVNFD},
		{http.MethodGet, pathVnfPackages + "/{vnfPkgId}/vnfd", s.getVNFDDocument},
	}
}

// onboardVNFD takes the descriptor document itself as the body (YAML or
// JSON; the orchestrator decodes and validates it), not a SOL005 package
// archive: stitch's packages are single documents.
func (s *server) onboardVNFD(w http.ResponseWriter, r *http.Request) error {
	doc, err := readBody(w, r, maxDescriptorBody)
	if err != nil {
		return err
	}
	if doc == nil {
		return badRequest("request body is empty; expected a VNFD document (YAML or JSON)")
	}
	info, err := s.svc.OnboardVNFD(r.Context(), doc)
	if err != nil {
		return err
	}
	w.Header().Set("Location", pathVnfPackages+"/"+url.PathEscape(info.ID))
	return writeObject(w, r, http.StatusCreated, info)
}

func (s *server) listVNFDs(w http.ResponseWriter, r *http.Request) error {
	infos, err := s.svc.ListVNFDs(r.Context())
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, nonNil(infos))
}

func (s *server) getVNFD(w http.ResponseWriter, r *http.Request) error {
	info, err := s.svc.GetVNFD(r.Context(), r.PathValue("vnfPkgId"))
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, info)
}

func (s *server) deleteVNFD(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteVNFD(r.Context(), r.PathValue("vnfPkgId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getVNFDDocument returns the descriptor as stitch stored it (normalised
// JSON, or YAML on request), not the bytes that were onboarded.
func (s *server) getVNFDDocument(w http.ResponseWriter, r *http.Request) error {
	info, err := s.svc.GetVNFD(r.Context(), r.PathValue("vnfPkgId"))
	if err != nil {
		return err
	}
	return writeJSONBytes(w, r, http.StatusOK, info.Document)
}
