module github.com/parley-voice/parley/examples/go

go 1.20

require github.com/parley-voice/parley/bindings/go v0.0.0

// The binding in this repository; a program outside it would `go get` the module instead.
replace github.com/parley-voice/parley/bindings/go => ../../bindings/go
