//! Generates the grpc workload's messages, server trait and client from the contract's
//! ticks.proto (the health service's come with tonic-health). protoc must be installed:
//! prost-build finds it on PATH or in $PROTOC.

const PROTO: &str = "../../contracts/grpc/ticks.proto";

fn main() -> std::io::Result<()> {
    // prost-build names no inputs to cargo, which then looks only at this package's own files:
    // the .proto lives in contracts/, outside it.
    println!("cargo:rerun-if-changed={PROTO}");
    tonic_prost_build::configure()
        // A tick's payload is a slice of one shared pattern buffer (grpc::stream), not a copy.
        .bytes(".stackbench.v1.Tick.payload")
        .compile_protos(&[PROTO], &["../../contracts/grpc"])
}
