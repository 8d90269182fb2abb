// A protocors user's module, built from scratch by run.sh (the test that is
// a user): run.sh copies these files to a temporary directory and runs the
// README's Install commands there, which add the requirements, the tools and
// go.sum. This go.mod therefore holds no requirements; the replace points
// the library at this checkout (run.sh makes it absolute in the copy).
module example.com/usermodule

go 1.26.0

replace github.com/protocors/protocors => ../..
