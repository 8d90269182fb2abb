// Package connectv2 tests the Connect middleware in front of a connect-go
// v2 server, mounted with connecthttp.Mount through Middleware.Mux. It is a
// module of its own so that the library's go.mod does not require v2.
package connectv2
