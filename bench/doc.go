// Package bench measures protocors' middlewares against github.com/rs/cors
// and github.com/jub0bs/cors, configured to the same policy, and a bare
// handler as the baseline. It is its own module so the library's go.mod
// never lists the peers. See README.md for the command and the results.
package bench
