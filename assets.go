package main

import (
	"embed"
	"io/fs"
)

// The binary carries its schema, templates and static files, so it is all you deploy.
var (
	//go:embed schema.sql
	schemaSQL string
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
