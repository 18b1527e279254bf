module stackbench/peers/go

go 1.26
