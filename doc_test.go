package protocors_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// publicPackages are the directories of the packages users import; their
// documentation is for users, so it must not send them to names they
// cannot see.
var publicPackages = []string{".", "interceptor", "gateway", "corspb", "protocorstest"}

// maxDocLine is the longest doc comment line allowed in a public package
// (generated files excepted): pkg.go.dev and go doc show comments as
// written.
const maxDocLine = 100

var (
	qualified = regexp.MustCompile(`\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)`)
	word      = regexp.MustCompile(`\b[A-Za-z_]\w*\b`)
	mixedCaps = regexp.MustCompile(`^[a-z]+[A-Z0-9_]\w*$`)
)

// TestPublicDocs checks every doc comment of an exported name (and the
// package comment) in the public packages: no mention of an unexported
// identifier of the package (a mixedCaps name, a call "name(" or a
// selector "x.name"), of an internal package ("internal/...", "core.X"),
// and no line longer than maxDocLine.
func TestPublicDocs(t *testing.T) {
	for _, dir := range publicPackages {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			continue // not written yet
		}
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		var files []*ast.File
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		checkPackage(t, fset, dir, files)
	}
}

func checkPackage(t *testing.T, fset *token.FileSet, dir string, files []*ast.File) {
	unexported := map[string]bool{}
	internalPkgs := map[string]bool{}
	for _, f := range files {
		name := fset.Position(f.Package).Filename
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(path, "/internal/") {
				n := filepath.Base(path)
				if imp.Name != nil {
					n = imp.Name.Name
				}
				internalPkgs[n] = true
			}
		}
		generated := ast.IsGenerated(f)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					unexported[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							unexported[s.Name.Name] = true
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if !n.IsExported() && n.Name != "_" {
								unexported[n.Name] = true
							}
						}
					}
				}
			}
		}
		if generated {
			continue
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if len(c.Text) > maxDocLine {
					t.Errorf("%s:%d: comment line of %d characters, wrap it at %d",
						name, fset.Position(c.Pos()).Line, len(c.Text), maxDocLine)
				}
			}
		}
	}

	p, err := doc.NewFromFiles(fset, files, "github.com/protocors/protocors/"+dir, doc.PreserveAST)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, text string) {
		for _, m := range qualified.FindAllStringSubmatch(text, -1) {
			if internalPkgs[m[1]] {
				t.Errorf("%s: %s: doc mentions %s of an internal package", dir, what, m[0])
			}
			if unexported[m[1]] || unexported[m[2]] && !ast.IsExported(m[2]) {
				t.Errorf("%s: %s: doc mentions unexported %s", dir, what, m[0])
			}
		}
		if strings.Contains(text, "internal/") {
			t.Errorf("%s: %s: doc names an internal package path", dir, what)
		}
		for _, loc := range word.FindAllStringIndex(text, -1) {
			w := text[loc[0]:loc[1]]
			if !unexported[w] {
				continue
			}
			call := strings.HasPrefix(text[loc[1]:], "(")
			if mixedCaps.MatchString(w) || call {
				t.Errorf("%s: %s: doc mentions unexported %s", dir, what, w)
			}
		}
	}
	check("package "+p.Name, p.Doc)
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			check(strings.Join(v.Names, ", "), v.Doc)
			for _, s := range v.Decl.Specs {
				if vs, ok := s.(*ast.ValueSpec); ok && vs.Doc != nil {
					check(vs.Names[0].Name, vs.Doc.Text())
				}
			}
		}
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			name := f.Name
			if f.Recv != "" {
				name = strings.TrimPrefix(f.Recv, "*") + "." + name
			}
			check(name, f.Doc)
		}
	}
	values(p.Consts)
	values(p.Vars)
	funcs(p.Funcs)
	for _, ty := range p.Types {
		check(ty.Name, ty.Doc)
		for _, s := range ty.Decl.Specs {
			ts, ok := s.(*ast.TypeSpec)
			if !ok {
				continue
			}
			var fields *ast.FieldList
			switch x := ts.Type.(type) {
			case *ast.StructType:
				fields = x.Fields
			case *ast.InterfaceType:
				fields = x.Methods
			}
			if fields == nil {
				continue
			}
			for _, fl := range fields.List {
				if fl.Doc == nil || len(fl.Names) == 0 || !fl.Names[0].IsExported() {
					continue
				}
				check(ty.Name+"."+fl.Names[0].Name, fl.Doc.Text())
			}
		}
		values(ty.Consts)
		values(ty.Vars)
		funcs(ty.Funcs)
		funcs(ty.Methods)
	}
}
