//! Generates the grpc workload's messages, server trait and client from the contract's
//! ticks.proto (the health service's come with tonic-health). protoc must be installed:
//! prost-build finds it on PATH or in $PROTOC.

fn main() -> std::io::Result<()> {
    tonic_prost_build::configure()
        // A tick's payload is a slice of one shared pattern buffer (grpc::stream), not a copy.
        .bytes(".stackbench.v1.Tick.payload")
        .compile_protos(
            &["../../contracts/grpc/ticks.proto"],
            &["../../contracts/grpc"],
        )
}
