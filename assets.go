package main

import (
	"embed"
	"io/fs"
)

// The binary carries its templates and static files (the schema is embedded by package
// migrations), so it is all you deploy.
var (
	//go:embed templates
	templateFiles embed.FS
	//go:embed static
	staticFiles embed.FS
)

func sub(fsys fs.FS, dir string) fs.FS {
	s, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // dir is a literal embedded above; this cannot fail at run time
	}
	return s
}
