// Package lab reads containerlab topology files (*.clab.yml) and realises
// them on a host without a container engine: nodes of kind linux become
// network namespaces running their exec commands, nodes of kind bridge a
// Linux bridge in a namespace of its own, and links veth pairs between them.
//
// # Schema decision: mirror, do not import
//
// containerlab's own types package (github.com/srl-labs/containerlab v0.79.0)
// would give us its exact structs, but importing it drags its whole module
// graph (Docker client, netlink forks, cloud SDKs…) into stitch's go.sum for
// a dozen fields, couples stitch's upgrade cadence to containerlab's, and its
// structs carry container-only fields we would have to ignore anyway. The
// part of the schema stitch uses is small and stable, so this package mirrors
// it in its own structs (raw.go) and reimplements containerlab's inheritance
// rules (resolve.go), with tests on the shapes containerlab's examples use.
// Fields this package does not know are ignored, as containerlab's other
// kinds' fields must be, so a file written for containerlab still parses.
//
// # Inheritance (as containerlab does it)
//
//   - scalar fields (kind, image, cmd, mgmt-ipv4 is node only): node, then
//     group, then kind, then defaults — the first non-empty wins; the kind
//     itself is looked up from node, then group, then defaults;
//   - env and labels: merged by key, defaults < kind < group < node;
//   - binds: merged by container destination path with the same precedence;
//   - exec: the most specific non-empty list wins (node overrides).
//
// Environment variables are substituted in the file text before it is parsed,
// like containerlab: ${VAR}, ${VAR:=default} and ${VAR:-default} (default
// when unset or empty), ${VAR=default} and ${VAR-default} (default when
// unset). A bare $VAR is left alone so shell commands in exec keep their
// variables. The caller passes the environment as a map, so tests do not
// depend on the process environment.
//
// stitch's own labels (stitch.site, stitch.wan.*) are described in README.md.
package lab
