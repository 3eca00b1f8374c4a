package nfvo

import (
	"encoding/json"
	"time"
)

// NsState is the SOL005 nsState of an NS instance.
type NsState string

const (
	NsNotInstantiated NsState = "NOT_INSTANTIATED"
	NsInstantiated    NsState = "INSTANTIATED"
)

// OpState is an LCM operation occurrence's SOL005 operationState.
type OpState string

const (
	OpStarting    OpState = "STARTING"
	OpProcessing  OpState = "PROCESSING"
	OpCompleted   OpState = "COMPLETED"
	OpFailedTemp  OpState = "FAILED_TEMP"
	OpFailed      OpState = "FAILED"
	OpRollingBack OpState = "ROLLING_BACK"
	OpRolledBack  OpState = "ROLLED_BACK"
)

// Final reports whether no more transitions follow.
func (s OpState) Final() bool {
	return s == OpCompleted || s == OpFailed || s == OpRolledBack
}

// Running reports whether the operation holds its NS instance: FAILED_TEMP
// does too, until it is retried, rolled back or failed.
func (s OpState) Running() bool { return !s.Final() }

// OpType is a SOL005 lcmOperationType.
type OpType string

const (
	OpInstantiate OpType = "INSTANTIATE"
	OpScale       OpType = "SCALE"
	OpHeal        OpType = "HEAL"
	OpTerminate   OpType = "TERMINATE"
)

// VnfdInfo is an onboarded VNF package (one VNFD version).
type VnfdInfo struct {
	ID          string    `json:"id"` // "<vnfdId>:<version>", the package id
	VnfdID      string    `json:"vnfdId"`
	Version     string    `json:"vnfdVersion"`
	Kind        string    `json:"kind"`
	ProductName string    `json:"vnfProductName,omitempty"`
	Provider    string    `json:"vnfProvider,omitempty"`
	Warnings    []string  `json:"warnings,omitempty"`
	OnboardedAt time.Time `json:"onboardedAt"`
	// Document is the VNFD as stitch stored it (JSON).
	Document json.RawMessage `json:"vnfd"`
}

// NsdInfo is an onboarded NSD version.
type NsdInfo struct {
	ID          string          `json:"id"` // "<nsdId>:<version>"
	NsdID       string          `json:"nsdId"`
	Version     string          `json:"nsdVersion"`
	Name        string          `json:"nsdName,omitempty"`
	VnfdIDs     []string        `json:"vnfdId"`
	Warnings    []string        `json:"warnings,omitempty"`
	OnboardedAt time.Time       `json:"onboardedAt"`
	Document    json.RawMessage `json:"nsd"`
}

// NsInstance is one network service instance: what the operator asked for
// (Desired) and what stitch built (State, Vnfcs).
type NsInstance struct {
	ID          string  `json:"id"`
	Name        string  `json:"nsInstanceName"`
	Description string  `json:"nsInstanceDescription,omitempty"`
	NsdID       string  `json:"nsdId"`
	NsdVersion  string  `json:"nsdVersion"`
	FlavourID   string  `json:"flavourId,omitempty"`
	State       NsState `json:"nsState"`
	// Status is stitch's health summary: "", HEALTHY, DEGRADED, PROCESSING,
	// FAILED_TEMP (an operation failed and waits for the operator).
	Status string `json:"status,omitempty"`
	// VnfdVersions pins the VNFD version each vnfd-id resolved to at creation.
	VnfdVersions map[string]string `json:"vnfdVersions"`
	Desired      Desired           `json:"desired"`
	CurrentOp    string            `json:"currentOpOcc,omitempty"`
	// NextIndex numbers the instances of each "<vnf-profile>/<vdu>", so that
	// an instance name is never reused.
	NextIndex map[string]int `json:"nextIndex,omitempty"`
	// PolicyOverrides are the operator's run-time changes to the NSD's
	// scaling policies, by policy id.
	PolicyOverrides map[string]PolicyUpdate `json:"policyOverrides,omitempty"`
	CreatedAt       time.Time               `json:"createdAt"`
	UpdatedAt       time.Time               `json:"updatedAt"`
	Vnfcs           []Vnfc                  `json:"vnfcs,omitempty"` // filled on read, stored apart
}

// Desired is the state the reconciler drives an NS instance towards.
type Desired struct {
	Instantiated bool `json:"instantiated"`
	// Replicas per "<vnf-profile>/<vdu>".
	Replicas map[string]int `json:"replicas,omitempty"`
	// Replace lists VNFC ids to be replaced (heal).
	Replace    []string `json:"replace,omitempty"`
	Generation int64    `json:"generation"`
}

// VnfcState is the lifecycle of one VDU instance as the NFVO tracks it.
type VnfcState string

const (
	VnfcPending  VnfcState = "PENDING"  // recorded, VIM call not done yet
	VnfcStarting VnfcState = "STARTING" // created on the VIM, not healthy yet
	VnfcHealthy  VnfcState = "HEALTHY"
	VnfcFailed   VnfcState = "FAILED"
	VnfcDeleting VnfcState = "DELETING"
)

// Vnfc is one VDU instance (a VNF component instance).
type Vnfc struct {
	ID        string            `json:"id"` // also the VIM instance name
	NsID      string            `json:"nsInstanceId"`
	Profile   string            `json:"vnfProfileId"`
	VnfdID    string            `json:"vnfdId"`
	VDU       string            `json:"vduId"`
	Index     int               `json:"index"`
	Site      string            `json:"site"`
	Placement string            `json:"placementReason"`
	State     VnfcState         `json:"state"`
	Addresses map[string]string `json:"addresses,omitempty"` // cpd → IP
	Slots     int               `json:"slots,omitempty"`
	// SlotsEndpoint is where the instance reports its slots (ip:port of
	// its health-check port, GET /slots), for instances with slots.
	SlotsEndpoint string    `json:"slotsEndpoint,omitempty"`
	OpID          string    `json:"createdByOp"`
	CreatedAt     time.Time `json:"createdAt"`
	HealthyAt     time.Time `json:"healthyAt,omitzero"`
	LastError     string    `json:"lastError,omitempty"`
	LogPath       string    `json:"logPath,omitempty"`
}

// LcmOpOcc is an LCM operation occurrence (SOL005 NsLcmOpOcc).
type LcmOpOcc struct {
	ID                    string          `json:"id"`
	OperationState        OpState         `json:"operationState"`
	StateEnteredTime      time.Time       `json:"stateEnteredTime"`
	StartTime             time.Time       `json:"startTime"`
	NsInstanceID          string          `json:"nsInstanceId"`
	LcmOperationType      OpType          `json:"lcmOperationType"`
	IsAutomaticInvocation bool            `json:"isAutomaticInvocation"`
	OperationParams       json.RawMessage `json:"operationParams,omitempty"`
	IsCancelPending       bool            `json:"isCancelPending"`
	Error                 *Problem        `json:"error,omitempty"`
	// Reason says why the operation was started (operator, policy, healing).
	Reason string `json:"reason,omitempty"`
	// Steps is the progress so far, for --watch.
	Steps []Step `json:"steps,omitempty"`
	// Previous is the desired state before this operation, for rollback.
	Previous *Desired `json:"previousDesired,omitempty"`
	// Stats is filled when the operation ends.
	Stats *OpStats `json:"stats,omitempty"`
	// RollbackRequested is set once the operator asked for a rollback: a
	// retry after a failed rollback goes on rolling back.
	RollbackRequested bool `json:"rollbackRequested,omitempty"`
}

// OpStats splits an operation's wall time, along its critical path (the
// slowest instance of each dependency layer), into the VIM's work (creating
// namespaces, links and processes), the wait for programs to start and pass
// their health checks, and the orchestrator's own work: the rest.
type OpStats struct {
	DurationMs     float64 `json:"durationMs"`
	VimMs          float64 `json:"vimMs"`
	InstanceWaitMs float64 `json:"instanceWaitMs"`
	OverheadMs     float64 `json:"orchestratorOverheadMs"`
}

// Step is one recorded step of an operation.
type Step struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"`
	// State is the operation's state when the step happened.
	State OpState `json:"state,omitempty"`
}

// Problem is an RFC 7807 problem details object.
type Problem struct {
	Type     string `json:"type,omitempty"`
	Title    string `json:"title,omitempty"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	// Errors lists field-level problems (descriptor validation).
	Errors []FieldProblem `json:"errors,omitempty"`
}

type FieldProblem struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Requests of the NS lifecycle API (SOL005-shaped).

type CreateNsRequest struct {
	NsdID       string `json:"nsdId"`
	NsdVersion  string `json:"nsdVersion,omitempty"`
	Name        string `json:"nsName"`
	Description string `json:"nsDescription,omitempty"`
}

type InstantiateRequest struct {
	FlavourID string `json:"nsFlavourId,omitempty"`
}

type ScaleRequest struct {
	ScaleType    string       `json:"scaleType"` // SCALE_VNF
	ScaleVnfData ScaleVnfData `json:"scaleVnfData"`
}

type ScaleVnfData struct {
	VnfProfileID  string `json:"vnfProfileId"`
	ScaleVnfType  string `json:"scaleVnfType"` // SCALE_OUT | SCALE_IN
	AspectID      string `json:"aspectId"`
	NumberOfSteps int    `json:"numberOfSteps,omitempty"`
}

type HealRequest struct {
	// VnfcIDs to replace; empty with VnfProfileID replaces that constituent's
	// failed instances; both empty heals every failed instance.
	VnfProfileID string   `json:"vnfProfileId,omitempty"`
	VnfcIDs      []string `json:"vnfcIds,omitempty"`
	Cause        string   `json:"cause,omitempty"`
}

type TerminateRequest struct {
	// Force terminates even while another operation runs.
	Force bool `json:"force,omitempty"`
	// GracefulTerminationTimeout in seconds before instances are killed.
	GracefulTerminationTimeout int `json:"gracefulTerminationTimeout,omitempty"`
}

// Subscription to LCM operation occurrence notifications (webhooks).
type Subscription struct {
	ID            string    `json:"id"`
	CallbackURI   string    `json:"callbackUri"`
	NsInstanceIDs []string  `json:"nsInstanceIds,omitempty"` // empty: all
	CreatedAt     time.Time `json:"createdAt"`
}

// Notification is what a subscriber's callback receives.
type Notification struct {
	ID               string    `json:"id"`
	NotificationType string    `json:"notificationType"` // NsLcmOperationOccurrenceNotification
	SubscriptionID   string    `json:"subscriptionId"`
	Timestamp        time.Time `json:"timeStamp"`
	NsInstanceID     string    `json:"nsInstanceId"`
	NsLcmOpOccID     string    `json:"nsLcmOpOccId"`
	OperationType    OpType    `json:"operation"`
	OperationState   OpState   `json:"operationState"`
	Error            *Problem  `json:"error,omitempty"`
}
