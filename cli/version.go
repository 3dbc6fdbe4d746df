package cli

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version prints the module version and, when the binary was built from a git checkout,
// the commit: "keyport (devel) revision 1a2b3c4d5e6f (modified) go1.26.8".
func version(_ context.Context, env Env, args []string) error {
	fs := newFlags("version", env)
	synopsis(fs, "version")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	_, err := fmt.Fprintln(env.Stdout, versionLine())
	return err
}

func versionLine() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "keyport unknown (built without module information)"
	}
	rev, modified := "unknown", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
			if len(rev) > 12 {
				rev = rev[:12]
			}
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	return fmt.Sprintf("keyport %s revision %s%s %s", info.Main.Version, rev, modified, info.GoVersion)
}
