package protocors_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/protocors/protocors"
)

// TestSchema: Schema is the file in proto/, byte for byte, and each call
// returns a copy of its own.
func TestSchema(t *testing.T) {
	want, err := os.ReadFile("proto/" + protocors.SchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	got := protocors.Schema()
	if !bytes.Equal(got, want) {
		t.Fatalf("Schema() differs from proto/%s", protocors.SchemaPath)
	}
	got[0] ^= 0xff
	if !bytes.Equal(protocors.Schema(), want) {
		t.Fatal("changing the slice Schema returned changed the next call's result")
	}
}
