package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBashCompletion loads the script into a real bash and asks it to
// complete command lines.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	code, script, _ := run(t, "completion", "bash")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	path := filepath.Join(t.TempDir(), "flume-ng.bash")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	complete := func(words ...string) string {
		t.Helper()
		// COMP_WORDS and COMP_CWORD are what bash sets before calling
		// the completion function.
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		prog := "source " + path + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
			strconv.Itoa(len(words)-1) + "\n_flume_ng\necho \"${COMPREPLY[*]}\"\n"
		out, err := exec.Command(bash, "--norc", "--noprofile", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	out, err := exec.Command(bash, "--norc", "--noprofile", "-c", "source "+path+" && complete -p flume-ng").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "complete -F _flume_ng flume-ng" {
		t.Fatalf("complete -p: %v %q", err, out)
	}
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"flume-ng", ""}, "agent validate help version channel completion"},
		{[]string{"flume-ng", "va"}, "validate"},
		{[]string{"flume-ng", "help", "clich"}, "clichan"},
		{[]string{"flume-ng", "help", "multi"}, "multiplexing"},
		{[]string{"flume-ng", "help", "fail"}, "failover"},
		{[]string{"flume-ng", "agent", "--no"}, "--no-reload-conf"},
		{[]string{"flume-ng", "agent", "-n", ""}, ""},
		{[]string{"flume-ng", "agent", "--conf-"}, "--conf-file --conf-uri --conf-user --conf-password --conf-provider"},
		{[]string{"flume-ng", "agent", "-u", "ht"}, "http:// https://"},
		{[]string{"flume-ng", "agent", "--conf-password", ""}, ""},
		{[]string{"flume-ng", "agent", "-a", ""}, defaultAuthProvider},
		{[]string{"flume-ng", "channel", "re"}, "repair"},
		{[]string{"flume-ng", "channel", "verify", "--ch"}, "--checkpointDir --channel"},
		{[]string{"flume-ng", "completion", ""}, "bash zsh"},
	}
	for _, tc := range tests {
		if got := complete(tc.words...); got != tc.want {
			t.Errorf("%q: completions %q, want %q", tc.words, got, tc.want)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "agent.properties"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := complete("flume-ng", "validate", "-f", filepath.Join(dir, "age")); got != filepath.Join(dir, "agent.properties") {
		t.Errorf("file completion %q", got)
	}
}

func TestZshCompletion(t *testing.T) {
	code, script, _ := run(t, "completion", "zsh")
	if code != 0 || !strings.HasPrefix(script, "#compdef flume-ng\n") || !strings.Contains(script, "multiplexing") ||
		!strings.Contains(script, "'channel:verify or repair a stopped file channel'") {
		t.Fatalf("exit %d:\n%s", code, script)
	}
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh not installed; only the text was checked")
	}
	path := filepath.Join(t.TempDir(), "_flume_ng")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zsh, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
}

func TestCompletionUsage(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "fish"}} {
		if code, _, errOut := run(t, args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d %q", args, code, errOut)
		}
	}
}
