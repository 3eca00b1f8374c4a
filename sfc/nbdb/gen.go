// Package nbdb holds typed models of the OVN northbound database, generated
// by libovsdb's modelgen from the schema Debian's ovn-central ships (OVN
// 23.03). Regenerate after an OVN upgrade so the models match the server
// stitch talks to; the schema version is in Schema().
package nbdb

//go:generate go run github.com/ovn-org/libovsdb/cmd/modelgen -p nbdb -o . /usr/share/ovn/ovn-nb.ovsschema
