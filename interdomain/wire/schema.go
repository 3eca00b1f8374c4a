package wire

// Schema is the protobuf schema that the hand-written codec implements. It is
// documentation for other implementations; nothing parses it.
const Schema = `syntax = "proto3";
package stitch.svcroute.v1;

message Envelope {
  uint32 type = 1;   // Type: 1 OPEN, 2 UPDATE, 3 KEEPALIVE, 4 NOTIFICATION, 5 ROUTE-REFRESH, 6 END-OF-RIB
  bytes  body = 2;   // the encoded message of that type (absent for empty messages)
}

message Open {
  uint32 version = 1;
  string domain_id = 2;
  uint64 hold_time_ms = 3;
  Capabilities capabilities = 4;
}

message Capabilities {
  bool   route_refresh = 1;
  bool   graceful_restart = 2;
  uint64 restart_time_ms = 3;
  bool   batch_signatures = 4;    // can verify batch-signed routes
}

message Update {
  repeated Route      announce = 1;
  repeated string     withdraw = 2;   // service names
  repeated Retraction retract = 3;    // applied before withdraw and announce
}

message Route {
  string service = 1;
  bytes  address = 2;             // anycast address, 4 or 16 bytes
  uint32 port = 3;
  uint32 proto = 4;               // IP protocol number: 6 TCP, 17 UDP, 132 SCTP
  string origin = 5;              // origin domain id
  repeated string path = 6;       // domain path, nearest first, origin last
  uint32 slots = 7;               // free session slots as exported
  uint32 metric = 8;              // cumulative latency/cost
  bytes  ingress = 9;             // entry address of the origin domain, 4 or 16 bytes
  bytes  signature = 10;          // ed25519 by the origin over SigningBytes
  uint64 epoch = 11;              // set by the origin when it starts originating; signed
  // Batch signatures (capability batch_signatures): signature is then over
  // the root of a Merkle tree of the origin's routes (see SignBatch).
  uint32 batch_index = 12;        // the route's leaf, < 2^depth
  bytes  batch_proof = 13;        // depth sibling hashes of 32 bytes, leaf level first
}

// Retraction: the origin no longer originates service in any epoch up to
// epoch; every path with that origin, service and epoch is dropped, and the
// retraction flooded on.
message Retraction {
  string service = 1;
  string origin = 2;
  uint64 epoch = 3;               // non-zero
  bytes  signature = 4;           // ed25519 by the origin over RetractionSigningBytes
}

message Keepalive {}
message Notification { uint32 code = 1; uint32 subcode = 2; string text = 3; }
message RouteRefresh {}
message EndOfRIB {}
`
