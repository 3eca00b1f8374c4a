package gnmi

import (
	"context"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stitchnfv/stitch/telemetry"
)

// Get implements gnmi.GNMIServer. Each requested path yields its own
// notifications so that a client can tell which answer belongs to which
// question.
func (t *Target) Get(ctx context.Context, req *gpb.GetRequest) (*gpb.GetResponse, error) {
	if err := t.checkTarget(req.GetPrefix()); err != nil {
		return nil, err
	}
	if err := t.checkModels(req.GetUseModels()); err != nil {
		return nil, err
	}
	if err := checkEncoding(req.GetEncoding()); err != nil {
		return nil, err
	}
	if len(req.GetPath()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "Get needs at least one path")
	}
	if _, ok := gpb.GetRequest_DataType_name[int32(req.GetType())]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "unknown data type %d", req.GetType())
	}
	patterns := make([]telemetry.Path, len(req.GetPath()))
	for i, p := range req.GetPath() {
		full, err := fullPath(req.GetPrefix(), p)
		if err != nil {
			return nil, err
		}
		patterns[i] = full
	}

	prefix := responsePrefix(req.GetPrefix())
	resp := &gpb.GetResponse{}
	for _, pat := range patterns {
		if err := ctx.Err(); err != nil {
			return nil, status.FromContextError(err).Err()
		}
		var leaves []telemetry.Leaf
		// Every leaf in the tree is state; a CONFIG request selects none.
		if req.GetType() != gpb.GetRequest_CONFIG {
			leaves = t.tree.Get(pat)
		}
		if len(leaves) == 0 {
			if !pat.HasWildcards() {
				return nil, status.Errorf(codes.NotFound, "no data at %s", pat)
			}
			resp.Notification = append(resp.Notification, &gpb.Notification{Prefix: prefix, Timestamp: time.Now().UnixNano()})
			continue
		}
		b := batcher{prefix: prefix}
		for _, l := range leaves {
			val, err := encode(l.Value, req.GetEncoding())
			if err != nil {
				return nil, err
			}
			b.update(l, val, 0)
		}
		resp.Notification = append(resp.Notification, b.out...)
	}
	return resp, nil
}
