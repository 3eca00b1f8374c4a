package ovn

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/client"
	"github.com/ovn-org/libovsdb/model"

	"github.com/stitchnfv/stitch/sfc/nbdb"
)

// Client renders NS networks into one OVN northbound database. It keeps a
// monitored cache of the tables it writes, so reading actual state costs no
// round trip.
type Client struct {
	ovs client.Client
	log *slog.Logger
	// mu serialises renders: each plans against the cache and must see the
	// previous one's result there before it starts.
	mu sync.Mutex
}

// Dial connects to the NB database at endpoint ("unix:/path" or
// "tcp:host:port") and monitors the tables the renderer uses.
func Dial(ctx context.Context, endpoint string, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dbModel, err := nbdb.FullDatabaseModel()
	if err != nil {
		return nil, fmt.Errorf("ovn: NB model: %w", err)
	}
	// A client-side index on the NS tag makes reading one NS's rows a map
	// lookup instead of a scan of every row of every NS.
	byNS := []model.ClientIndex{{Columns: []model.ColumnKey{{Column: "external_ids", Key: KeyNS}}}}
	dbModel.SetIndexes(map[string][]model.ClientIndex{
		"Logical_Switch": byNS, "Logical_Switch_Port": byNS, "Port_Group": byNS, "ACL": byNS,
		"Logical_Router": byNS, "Logical_Router_Port": byNS, "Logical_Router_Policy": byNS,
		"Load_Balancer": byNS,
	})
	// libovsdb logs every cache update through logr at its default level;
	// stitch logs what it changed itself, with slog.
	quiet := logr.Discard()
	ovs, err := client.NewOVSDBClient(dbModel, client.WithEndpoint(endpoint), client.WithLogger(&quiet))
	if err != nil {
		return nil, fmt.Errorf("ovn: NB client for %s: %w", endpoint, err)
	}
	if err := ovs.Connect(ctx); err != nil {
		return nil, fmt.Errorf("ovn: connect to NB at %s: %w", endpoint, err)
	}
	mon := ovs.NewMonitor(
		client.WithTable(&nbdb.LogicalSwitch{}),
		client.WithTable(&nbdb.LogicalSwitchPort{}),
		client.WithTable(&nbdb.PortGroup{}),
		client.WithTable(&nbdb.ACL{}),
		client.WithTable(&nbdb.LogicalRouter{}),
		client.WithTable(&nbdb.LogicalRouterPort{}),
		client.WithTable(&nbdb.LogicalRouterPolicy{}),
		client.WithTable(&nbdb.LoadBalancer{}),
	)
	if _, err := ovs.Monitor(ctx, mon); err != nil {
		ovs.Close()
		return nil, fmt.Errorf("ovn: monitor NB at %s: %w", endpoint, err)
	}
	return &Client{ovs: ovs, log: log}, nil
}

// Close disconnects from NB.
func (c *Client) Close() { c.ovs.Close() }
