// Command protocors shows and checks the CORS policies that proto files
// declare with the protocors.v1 options, before they reach a browser.
//
//	protocors explain [flags] IMAGE   every RPC's effective policy, where each field came from, its routes
//	protocors check   [flags] IMAGE   the validation the middlewares' New does; exit 1 and one line per problem
//	protocors diff    [flags] OLD NEW what an API change widens or narrows for other origins; exit 1 on a widening
//	protocors schema  [-o DIR] [-f]   write the options schema to DIR/protocors/v1/cors.proto (stdout without -o)
//
// IMAGE is a FileDescriptorSet as written by `buf build -o image.binpb` or
// `protoc --include_imports --descriptor_set_out=image.binpb`; a name ending
// in .json is read as protobuf JSON (`buf build -o image.json`); "-" reads
// standard input.
//
// Flags give the deployment's runtime options, as the middlewares' New
// takes them: --origins https://a.example.com,... (WithOrigins) and
// --origin-set NAME=ORIGIN,ORIGIN,... (WithOriginSet; repeatable, flags for
// one name add up). explain shows where each effective origin came from:
// a scope's allow_origins, the runtime default, or a named set.
//
// check also warns, on standard error and without failing, when the
// image's own protocors/v1/cors.proto differs from the schema this program
// was built with (compared as descriptors, so layout and comments do not
// count): the middlewares read the options with their own schema.
//
// schema writes the schema of this version into a proto tree, the way to
// get it into a buf module or a protoc include path (refusing to replace a
// different file without -f).
//
// diff compares two images' effective policies, Connect methods, routes and
// preflight Allow-Methods, one classified line per change; it takes the same
// flags, plus --old-origin-set and --new-origin-set for a binding that
// changes with the API, and exits 1 when anything widens.
//
// Exit status: 0 success, 1 check found problems (diff: something widens) or schema found a
// different file in the way, 2 usage error or unreadable image.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
