package protocors

import (
	_ "embed"
	"slices"
)

//go:embed proto/protocors/v1/cors.proto
var schema []byte

// SchemaPath is where [Schema] belongs in a proto tree: the path the .proto
// files that use the options import it by.
const SchemaPath = "protocors/v1/cors.proto"

// Schema returns the options schema of this version of the library: the
// text of protocors/v1/cors.proto, which declares the (protocors.v1.file),
// (protocors.v1.service) and (protocors.v1.method) options and the
// protocors.v1.Policy message. It returns a new copy on every call.
//
// Put it in your proto tree at [SchemaPath], next to the .proto files that
// use the options (`protocors schema -o DIR` writes DIR/protocors/v1/cors.proto),
// compile it with them, and generate no code for it: its go_package names
// github.com/protocors/protocors/corspb, which registers it already, so a
// second generated copy would panic at start (proto: file
// "protocors/v1/cors.proto" is already registered). With buf managed mode,
// disable it (a `disable` rule for its path) and leave it out of the
// generated inputs (`exclude_paths`); the README's Install section shows the
// configuration.
func Schema() []byte {
	return slices.Clone(schema)
}
