package rclonefs

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestOnlyRclonefsImportsRclone checks DESIGN.md's import rule: outside
// this package (and cmd, which opens remotes through it) nothing links
// rclone, so the engine and its tests never compile it.
func TestOnlyRclonefsImportsRclone(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list packages with")
	}
	goList := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(goTool, append([]string{"list", "-e"}, args...)...).Output()
		if err != nil {
			t.Fatalf("go list %q: %v", args, err)
		}
		return string(out)
	}
	if gomod, err := exec.Command(goTool, "env", "GOMOD").Output(); err != nil || !strings.HasSuffix(strings.TrimSpace(string(gomod)), "go.mod") {
		t.Skip("not run inside the module (a test binary run elsewhere)")
	}
	module := strings.TrimSpace(goList("-m"))
	pkgs := []string{module + "/backends/rclonefs"} // checks the check
	for _, p := range strings.Fields(goList(module + "/...")) {
		if p != pkgs[0] && p != module+"/cmd" && !strings.HasPrefix(p, module+"/cmd/") {
			pkgs = append(pkgs, p)
		}
	}
	if !slices.Contains(pkgs, module+"/backends") {
		t.Fatalf("go list found %q, not even %s/backends", pkgs, module)
	}
	// One line per package: its path, then its dependencies.
	out := goList(append([]string{"-f", `{{.ImportPath}} {{join .Deps " "}}`}, pkgs...)...)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := strings.Fields(line)
		p, deps := fields[0], fields[1:]
		i := slices.IndexFunc(deps, func(d string) bool { return strings.HasPrefix(d, "github.com/rclone/rclone/") })
		switch {
		case p == pkgs[0] && i < 0:
			t.Errorf("%s does not seem to depend on rclone: the check is broken", p)
		case p != pkgs[0] && i >= 0:
			t.Errorf("%s depends on %s; only backends/rclonefs may import rclone", p, deps[i])
		}
	}
}
