module github.com/parley-voice/parley/bindings/go

go 1.20
