// Command protocors shows and checks the CORS policies that proto files
// declare with the protocors.v1 options, before they reach a browser.
//
//	protocors explain [flags] IMAGE   every RPC's effective policy, where each field came from, its routes
//	protocors check   [flags] IMAGE   the validation the middlewares' New does; exit 1 and one line per problem
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
// Exit status: 0 success, 1 check found problems, 2 usage error or
// unreadable image.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
