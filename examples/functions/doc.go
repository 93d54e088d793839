// Package functions holds the example functions of cloudless: real programs a
// publisher would put on the network, each in its own folder with its
// source, built to WebAssembly (WASI preview1) by `make examples` into
// build/examples/NAME.wasm.
//
//	hello      C    greets its argument; args, env and stdout
//	sha256     C    SHA-256 of stdin or of files, printed like sha256sum
//	wordfreq   Go   the N most frequent words of stdin or files
//	csvagg     Go   group-by with sum/avg/min/max over CSV files, report to /out
//	thumbnail  Go   shrinks a PNG/JPEG/GIF/PPM image, optionally to gray, into /out
//
// C functions build with clang --target=wasm32-wasi --sysroot=/usr; Go
// functions with GOOS=wasip1 GOARCH=wasm go build. Try one locally with
//
//	cloudless exec build/examples/hello.wasm -- Ada
//
// The package itself has no code: its test runs every function through the
// executor and checks the real output. Sample job specs that run these
// functions on the marketplace are in examples/jobs.
package functions
