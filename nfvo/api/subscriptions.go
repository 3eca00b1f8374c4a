package api

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/stitchnfv/stitch/nfvo"
)

// subscriptionRoutes: webhooks for LCM operation occurrence notifications.
func (s *server) subscriptionRoutes() []route {
	return []route{
		{http.MethodPost, pathSubscriptions, s.createSubscription},
		{http.MethodGet, pathSubscriptions, s.listSubscriptions},
		{http.MethodGet, pathSubscriptions + "/{subscriptionId}", s.getSubscription},
		{http.MethodDelete, pathSubscriptions + "/{subscriptionId}", s.deleteSubscription},
	}
}

// SubscriptionRequest is the body of POST /nslcm/v1/subscriptions: the
// fields of nfvo.Subscription a client may set (the id and creation time
// are the server's, and sending them is an error).
type SubscriptionRequest struct {
	CallbackURI   string   `json:"callbackUri"`
	NsInstanceIDs []string `json:"nsInstanceIds,omitempty"` // empty: all
}

func (s *server) createSubscription(w http.ResponseWriter, r *http.Request) error {
	var req SubscriptionRequest
	if err := decodeJSON(w, r, &req, bodyRequired); err != nil {
		return err
	}
	sub, err := s.svc.CreateSubscription(r.Context(), nfvo.Subscription{
		CallbackURI: req.CallbackURI, NsInstanceIDs: req.NsInstanceIDs,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", pathSubscriptions+"/"+url.PathEscape(sub.ID))
	return writeObject(w, r, http.StatusCreated, sub)
}

func (s *server) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	subs, err := s.svc.ListSubscriptions(r.Context())
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, nonNil(subs))
}

// getSubscription searches the list: the Service has no lookup by id, and
// subscriptions are few.
func (s *server) getSubscription(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("subscriptionId")
	subs, err := s.svc.ListSubscriptions(r.Context())
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if sub.ID == id {
			return writeObject(w, r, http.StatusOK, sub)
		}
	}
	return fmt.Errorf("subscription %q: %w", id, nfvo.ErrNotFound)
}

func (s *server) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteSubscription(r.Context(), r.PathValue("subscriptionId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
