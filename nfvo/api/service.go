// Package api is stitch's northbound REST API: an http.Handler over the
// orchestrator with SOL005-shaped paths (vnfpkgm, nsd, nslcm), RFC 7807
// problem details for errors, and a hand-written OpenAPI 3.0 document
// served at /openapi.yaml. Client is the matching Go client.
package api

import (
	"context"

	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/vnfm"
)

// Service is what the API needs from the orchestrator; *nfvo.Orchestrator
// implements it. It is declared here, where it is consumed, so the HTTP
// layer can be tested against a fake and the orchestrator does not depend
// on its transport. *Client implements it too, which makes a remote
// orchestrator usable wherever a local one is.
type Service interface {
	OnboardVNFD(ctx context.Context, doc []byte) (nfvo.VnfdInfo, error) // YAML or JSON descriptor document
	ListVNFDs(ctx context.Context) ([]nfvo.VnfdInfo, error)
	GetVNFD(ctx context.Context, id string) (nfvo.VnfdInfo, error) // "<id>" (latest) or "<id>:<version>"
	DeleteVNFD(ctx context.Context, id string) error
	OnboardNSD(ctx context.Context, doc []byte) (nfvo.NsdInfo, error)
	ListNSDs(ctx context.Context) ([]nfvo.NsdInfo, error)
	GetNSD(ctx context.Context, id string) (nfvo.NsdInfo, error)
	DeleteNSD(ctx context.Context, id string) error
	CreateNS(ctx context.Context, req nfvo.CreateNsRequest) (nfvo.NsInstance, error)
	ListNS(ctx context.Context) ([]nfvo.NsInstance, error)
	GetNS(ctx context.Context, id string) (nfvo.NsInstance, error)
	DeleteNS(ctx context.Context, id string) error
	Instantiate(ctx context.Context, id string, req nfvo.InstantiateRequest) (nfvo.LcmOpOcc, error)
	Scale(ctx context.Context, id string, req nfvo.ScaleRequest) (nfvo.LcmOpOcc, error)
	Heal(ctx context.Context, id string, req nfvo.HealRequest) (nfvo.LcmOpOcc, error)
	Terminate(ctx context.Context, id string, req nfvo.TerminateRequest) (nfvo.LcmOpOcc, error)
	ListOps(ctx context.Context, nsID string) ([]nfvo.LcmOpOcc, error) // nsID "" = all
	SlotReports(ctx context.Context, nsID string) ([]nfvo.SlotReport, error)
	Routers(ctx context.Context, nsID string) ([]nfvo.RouterView, error)
	ScalingPolicies(ctx context.Context, nsID string) ([]nfvo.PolicyStatus, error)
	TelemetryReports(ctx context.Context, nsID string) ([]vnfm.TelemetryReport, error)
	UpdatePolicy(ctx context.Context, nsID, policyID string, upd nfvo.PolicyUpdate) (nfvo.PolicyStatus, error)
	GetOp(ctx context.Context, id string) (nfvo.LcmOpOcc, error)
	RetryOp(ctx context.Context, id string) (nfvo.LcmOpOcc, error)
	RollbackOp(ctx context.Context, id string) (nfvo.LcmOpOcc, error)
	FailOp(ctx context.Context, id string) (nfvo.LcmOpOcc, error)
	CreateSubscription(ctx context.Context, s nfvo.Subscription) (nfvo.Subscription, error)
	ListSubscriptions(ctx context.Context) ([]nfvo.Subscription, error)
	DeleteSubscription(ctx context.Context, id string) error
}
